// Lives in the protocol now, so that the instance audit log (src/audit/) numbers its entries the same way.
export { uuidv7 } from "../protocol/uuid.ts";
