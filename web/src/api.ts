import { timestampMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, createClient, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { CartService, type Cart } from "@shopmesh/gen/shopmesh/cart/v1/cart_pb.js";
import { CatalogService } from "@shopmesh/gen/shopmesh/catalog/v1/catalog_pb.js";
import { DeliveryService } from "@shopmesh/gen/shopmesh/delivery/v1/delivery_pb.js";
import { IdentityService, type TokenPair, type User } from "@shopmesh/gen/shopmesh/identity/v1/identity_pb.js";
import { InventoryService } from "@shopmesh/gen/shopmesh/inventory/v1/inventory_pb.js";
import { OrderService } from "@shopmesh/gen/shopmesh/order/v1/order_pb.js";
import type { Payment } from "@shopmesh/gen/shopmesh/payment/v1/payment_pb.js";
import { EDGE_URL } from "./config.js";
import { createStore } from "./store.js";

/**
 * Tokens: the access token lives only in memory (this module), so no other script or tab can
 * read it from storage. The refresh token is kept in sessionStorage: it survives a reload of
 * this tab, is not shared with other tabs and is gone when the tab closes. It is rotated on
 * every refresh and revoked by sign-out (IdentityService.Logout).
 */
const REFRESH_TOKEN_KEY = "shopmesh.refreshToken";
/** Refresh this long before the access token expires, so calls never carry a stale one. */
const REFRESH_AHEAD_MS = 60_000;

export interface Session {
  user?: User;
  /** True while a stored refresh token is being exchanged at start-up. */
  restoring: boolean;
  /** Why the customer was signed out, shown on the sign-in page. */
  notice?: string;
}

export const session = createStore<Session>({ restoring: false });
/** The signed-in customer's cart, as the last cart RPC returned it. */
export const cart = createStore<Cart | undefined>(undefined);
/** PlaceOrder's payment per order, for the card step on the order page (memory only). */
export const payments = new Map<string, Payment>();

let accessToken: string | undefined;
let refreshTimer: ReturnType<typeof setTimeout> | undefined;
let refreshing: Promise<boolean> | undefined;

const withBearer: Interceptor = (next) => async (request) => {
  const sent = accessToken;
  if (sent) request.header.set("authorization", `Bearer ${sent}`);
  try {
    return await next(request);
  } catch (err) {
    // An access token can expire between the timer and the call (a sleeping laptop): refresh once and retry unary calls.
    if (sent && !request.stream && ConnectError.from(err).code === Code.Unauthenticated && (await refreshSession())) {
      request.header.set("authorization", `Bearer ${accessToken}`);
      return await next(request);
    }
    throw err;
  }
};

/** Connect protocol (binary) over fetch, to the edge only. */
export const transport = createConnectTransport({ baseUrl: EDGE_URL, useBinaryFormat: true, interceptors: [withBearer] });

export const identity = createClient(IdentityService, transport);
export const catalog = createClient(CatalogService, transport);
export const cartApi = createClient(CartService, transport);
export const orders = createClient(OrderService, transport);
export const inventory = createClient(InventoryService, transport);
export const delivery = createClient(DeliveryService, transport);

export const isAdmin = (user: User | undefined) => !!user?.roles.includes("admin");

function storeTokens(tokens: TokenPair | undefined): void {
  if (!tokens) throw new Error("identity returned no tokens");
  accessToken = tokens.accessToken;
  sessionStorage.setItem(REFRESH_TOKEN_KEY, tokens.refreshToken);
  clearTimeout(refreshTimer);
  const expiresAt = tokens.accessTokenExpireTime ? timestampMs(tokens.accessTokenExpireTime) : Date.now() + 5 * 60_000;
  const delay = Math.max(5_000, expiresAt - Date.now() - REFRESH_AHEAD_MS);
  refreshTimer = setTimeout(() => void refreshSession(), delay);
}

function clearSession(notice?: string): void {
  accessToken = undefined;
  clearTimeout(refreshTimer);
  sessionStorage.removeItem(REFRESH_TOKEN_KEY);
  cart.set(undefined);
  payments.clear();
  session.set({ restoring: false, ...(notice ? { notice } : {}) });
}

/** Exchanges the refresh token for a new pair (single flight). False, and signed out, when the session is over. */
export function refreshSession(): Promise<boolean> {
  refreshing ??= (async () => {
    const refreshToken = sessionStorage.getItem(REFRESH_TOKEN_KEY);
    if (!refreshToken) return false;
    try {
      const { tokens } = await identity.refresh({ refreshToken });
      storeTokens(tokens);
      return true;
    } catch (err) {
      const code = ConnectError.from(err).code;
      // Only a refused token ends the session; a network blip keeps it for the next try.
      if (code === Code.Unauthenticated || code === Code.InvalidArgument || code === Code.NotFound) {
        clearSession("Your session has expired. Please sign in again.");
      } else {
        clearTimeout(refreshTimer);
        refreshTimer = setTimeout(() => void refreshSession(), 10_000);
      }
      return false;
    } finally {
      refreshing = undefined;
    }
  })();
  return refreshing;
}

async function loadUser(): Promise<void> {
  const { user } = await identity.getMe({});
  session.set({ user, restoring: false });
  void loadCart();
}

export async function signIn(email: string, password: string): Promise<void> {
  const { tokens } = await identity.login({ email, password });
  storeTokens(tokens);
  await loadUser();
}

export async function register(email: string, password: string, displayName: string): Promise<void> {
  const { tokens } = await identity.register({ email, password, displayName });
  storeTokens(tokens);
  await loadUser();
}

export async function signOut(): Promise<void> {
  const refreshToken = sessionStorage.getItem(REFRESH_TOKEN_KEY);
  clearSession();
  // Revoking is best effort: the tokens are already gone from this tab.
  if (refreshToken) await identity.logout({ refreshToken }).catch(() => undefined);
}

/** On page load: a refresh token from this tab's earlier visit signs the customer back in. */
export async function restoreSession(): Promise<void> {
  if (!sessionStorage.getItem(REFRESH_TOKEN_KEY)) return;
  session.set({ restoring: true });
  if (await refreshSession()) {
    await loadUser().catch(() => session.set({ restoring: false }));
  } else if (session.get().restoring) {
    session.set({ restoring: false });
  }
}

export async function loadCart(): Promise<void> {
  if (!accessToken) return;
  const response = await cartApi.getCart({});
  cart.set(response.cart);
}
