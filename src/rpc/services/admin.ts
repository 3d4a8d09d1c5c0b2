import type { ServiceImpl } from "@connectrpc/connect";
import { unwrap } from "../../http/openapi.ts";
import { ApiError, type NodeReport } from "../../protocol/index.ts";
import { backlogReport, replicaReport } from "../../routes/admin.ts";
import { logOf } from "../../routes/audit-log.ts";
import { seq, timestamp, toChainReport } from "../convert.ts";
import { callOf, type Call } from "../context.ts";
import type { AdminService } from "../gen/edgechat/v1/admin_pb.js";

/**
 * AdminService (proto/edgechat/v1/admin.proto): what /api/admin/* reports, for instance admins;
 * a room's audit check for its owner too (the room decides, as over REST).
 */
export const admin: ServiceImpl<typeof AdminService> = {
  async getReplicas(_, context) {
    const call = await adminCall(context);
    const report = await replicaReport(call.hono);
    return { nodes: report.nodes.map(toNode), maxLagMs: BigInt(report.maxLagMs) };
  },

  async getBacklog(_, context) {
    const call = await adminCall(context);
    const report = await backlogReport(call.hono);
    return {
      total: seq(report.total),
      rooms: report.rooms.map((room) => ({
        name: room.name,
        lastSeq: seq(room.lastSeq),
        flushedSeq: seq(room.flushedSeq),
        backlog: seq(room.backlog),
        attempts: room.attempts,
        lastError: room.lastError ?? "",
      })),
    };
  },

  async verifyRoomAudit(request, context) {
    const call = callOf(context);
    const actor = await call.actor();
    return { report: toChainReport(unwrap(await call.room(request.room).auditVerify(actor))) };
  },

  async verifyInstanceAudit(_, context) {
    const call = await adminCall(context);
    return { report: toChainReport(await logOf(call.hono).verify()) };
  },
};

/** The call of an instance admin; anyone else is `forbidden`, as under /api/admin. */
async function adminCall(context: Parameters<typeof callOf>[0]): Promise<Call> {
  const call = callOf(context);
  if (!(await call.actor()).admin) throw new ApiError("forbidden", "for instance admins only");
  return call;
}

function toNode(node: NodeReport) {
  return {
    url: node.url,
    primary: node.role === "primary",
    healthy: node.healthy,
    openUntil: timestamp(node.openUntil),
    ...(node.lagBytes === null ? {} : { lagBytes: BigInt(Math.round(node.lagBytes)) }),
    ...(node.lagMs === null ? {} : { lagMs: BigInt(Math.round(node.lagMs)) }),
    replayLsn: node.replayLsn ?? "",
    paused: node.paused,
    error: node.error ?? "",
    checkedAt: timestamp(node.checkedAt),
  };
}
