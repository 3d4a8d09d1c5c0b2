import type { ConnectRouter } from "@connectrpc/connect";
import { AdminService } from "../gen/edgechat/v1/admin_pb.js";
import { HistoryService } from "../gen/edgechat/v1/history_pb.js";
import { MemberService } from "../gen/edgechat/v1/members_pb.js";
import { MessageService } from "../gen/edgechat/v1/messages_pb.js";
import { RoomService } from "../gen/edgechat/v1/rooms_pb.js";
import { admin } from "./admin.ts";
import { history } from "./history.ts";
import { members } from "./members.ts";
import { messages } from "./messages.ts";
import { rooms } from "./rooms.ts";

/** Every service of proto/edgechat/v1 on a Connect router (the transport mounts it). */
export function routes(router: ConnectRouter): ConnectRouter {
  return router
    .service(RoomService, rooms)
    .service(MessageService, messages)
    .service(MemberService, members)
    .service(HistoryService, history)
    .service(AdminService, admin);
}
