import type { ServiceImpl } from "@connectrpc/connect";
import { v7 as uuidv7 } from "uuid";
import { type DeliveryService } from "@shopmesh/gen/shopmesh/delivery/v1/delivery_pb.js";
import { FailedPreconditionError, hasRole, NotFoundError, requireCaller, type Caller, type Logger } from "@shopmesh/platform";
import { withTransaction, type Pool } from "@shopmesh/platform/data";
import type { Deliveries } from "../deliveries.js";
import type { DeliveryRecord } from "../domain/delivery.js";
import { IN_PROGRESS_STATUSES } from "../domain/delivery-status.js";
import { deliveryPageTokens, deliveryScope, partnerPageTokens, type DeliveryFilter } from "../domain/page-token.js";
import { applyPartnerUpdate, newPartner } from "../domain/partner.js";
import type { DeliveryStore } from "../store/deliveries.js";
import type { PartnerStore } from "../store/partners.js";
import { statusFilter, toDelivery, toPartner, toPartnerInput, toReportedStatus } from "./convert.js";

export interface DeliveryServiceDeps {
  pool: Pool;
  partners: PartnerStore;
  deliveries: DeliveryStore;
  useCases: Deliveries;
  logger: Logger;
  /** Called after partners changed, so deliveries waiting for one are retried at once. */
  onPartnersChanged: () => void;
}

const DEFAULT_PARTNER_PAGE_SIZE = 50;
const DEFAULT_DELIVERY_PAGE_SIZE = 20;

export function createDeliveryService(deps: DeliveryServiceDeps): ServiceImpl<typeof DeliveryService> {
  const { pool, partners, deliveries, useCases } = deps;

  /** The customer who ordered, the assigned partner's login, or an admin; anyone else is told it does not exist. */
  async function readableBy(caller: Caller, delivery: DeliveryRecord | undefined, what: string): Promise<DeliveryRecord> {
    if (delivery) {
      if (hasRole(caller, "admin") || delivery.userId === caller.userId) return delivery;
      if (delivery.partnerId && hasRole(caller, "partner")) {
        const partner = await partners.findByAccount(caller.userId);
        if (partner?.id === delivery.partnerId) return delivery;
      }
    }
    throw new NotFoundError(`${what} not found`);
  }

  return {
    async createPartner(request) {
      const record = newPartner(uuidv7(), toPartnerInput(request.partner!), new Date());
      await withTransaction(pool, (connection) => partners.insert(connection, record));
      deps.logger.info({ partner_id: record.id }, "partner created");
      deps.onPartnersChanged();
      return { partner: toPartner(record) };
    },

    async getPartner(request) {
      const partner = await partners.findById(request.partnerId);
      if (!partner) throw new NotFoundError(`partner ${request.partnerId} not found`);
      return { partner: toPartner(partner) };
    },

    async listPartners(request) {
      const after = partnerPageTokens.decode(request.pageToken);
      const limit = request.pageSize || DEFAULT_PARTNER_PAGE_SIZE;
      const { items, nextPageToken } = partnerPageTokens.page(await partners.list(after, limit + 1), limit, ({ name, id }) => ({ name, id }));
      return { partners: items.map(toPartner), nextPageToken };
    },

    async updatePartner(request) {
      const input = request.partner!;
      const { partner, changed } = await withTransaction(pool, async (connection) => {
        const current = await partners.findForUpdate(connection, input.id);
        if (!current) throw new NotFoundError(`partner ${input.id} not found`);
        const { next, changed } = applyPartnerUpdate(current, toPartnerInput(input), request.updateMask!.paths, new Date());
        if (changed.length > 0) await partners.update(connection, next);
        return { partner: next, changed };
      });
      if (changed.length > 0) {
        deps.logger.info({ partner_id: partner.id, changed }, "partner updated");
        deps.onPartnersChanged();
      }
      return { partner: toPartner(partner) };
    },

    async deletePartner(request) {
      await withTransaction(pool, async (connection) => {
        // The partner lock keeps an assignment from slipping in between the check and the delete.
        const current = await partners.findForUpdate(connection, request.partnerId);
        if (!current) throw new NotFoundError(`partner ${request.partnerId} not found`);
        if ((await deliveries.countInProgress(connection, current.id, IN_PROGRESS_STATUSES)) > 0) {
          throw new FailedPreconditionError(`partner ${current.id} has deliveries in progress; set available = false first`);
        }
        await partners.delete(connection, current.id);
      });
      deps.logger.info({ partner_id: request.partnerId }, "partner deleted");
      return {};
    },

    async getDelivery(request, ctx) {
      const delivery = await readableBy(requireCaller(ctx), await deliveries.findById(request.deliveryId), `delivery ${request.deliveryId}`);
      return { delivery: toDelivery(delivery) };
    },

    async getDeliveryByOrder(request, ctx) {
      const delivery = await readableBy(requireCaller(ctx), await deliveries.findByOrder(request.orderId), `delivery of order ${request.orderId}`);
      return { delivery: toDelivery(delivery) };
    },

    async listDeliveries(request, ctx) {
      const caller = requireCaller(ctx);
      let partnerId = request.partnerId;
      if (!hasRole(caller, "admin")) {
        const partner = await partners.findByAccount(caller.userId);
        // A partner role without a linked partner has no deliveries to see.
        if (!partner) return { deliveries: [], nextPageToken: "" };
        partnerId = partner.id;
      }
      const filter: DeliveryFilter = { partnerId, status: statusFilter(request.status) };
      const scope = deliveryScope(filter);
      const after = deliveryPageTokens.decode(request.pageToken, scope);
      const limit = request.pageSize || DEFAULT_DELIVERY_PAGE_SIZE;
      const { items, nextPageToken } = deliveryPageTokens.page(await deliveries.list(filter, after, limit + 1), limit, ({ id }) => ({ id }), scope);
      return { deliveries: items.map(toDelivery), nextPageToken };
    },

    async updateDeliveryStatus(request, ctx) {
      const delivery = await useCases.updateStatus(requireCaller(ctx), request.deliveryId, toReportedStatus(request.status), request.note);
      return { delivery: toDelivery(delivery) };
    },
  };
}
