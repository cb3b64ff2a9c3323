import * as net from "node:net";
import type { ISocketFactory } from "kafkajs";

/**
 * A TCP forwarder between a client under test and a real dependency, so a test can take the
 * dependency away and give it back without touching the shared server other tests use.
 */
export interface TcpProxy {
  /** The port clients connect to instead of the dependency's. */
  readonly port: number;
  /** Every open connection is reset and new ones are reset at once: the dependency is down. */
  refuse(): void;
  /** Connections stay open but nothing passes either way: a network partition. */
  blackhole(): void;
  /** Forwards again. Connections held by a partition are dropped, as they would time out. */
  restore(): void;
  /**
   * A kafkajs socket factory that opens every broker connection through the proxy, whatever
   * address the cluster advertises (the local cluster has one broker, so all of them lead there).
   * Without it only the bootstrap connection would pass the proxy.
   */
  readonly kafkaSocketFactory: ISocketFactory;
  close(): Promise<void>;
}

interface Link {
  client: net.Socket;
  upstream: net.Socket;
}

/** Starts a proxy on a free port of 127.0.0.1 that forwards to `target`. */
export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  let mode: "forward" | "refuse" | "blackhole" = "forward";
  const links = new Set<Link>();
  const drop = (link: Link) => {
    if (!links.delete(link)) return;
    link.client.resetAndDestroy();
    link.upstream.destroy();
  };
  const hold = (link: Link) => {
    link.client.unpipe();
    link.upstream.unpipe();
    link.client.pause();
    link.upstream.pause();
  };
  const server = net.createServer((client) => {
    if (mode === "refuse") {
      client.resetAndDestroy();
      return;
    }
    const link: Link = { client, upstream: net.connect(target) };
    links.add(link);
    for (const socket of [link.client, link.upstream]) {
      socket.on("error", () => drop(link));
      socket.on("close", () => drop(link));
    }
    if (mode === "blackhole") {
      hold(link);
    } else {
      link.client.pipe(link.upstream);
      link.upstream.pipe(link.client);
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;

  return {
    port,
    refuse() {
      mode = "refuse";
      [...links].forEach(drop);
    },
    blackhole() {
      mode = "blackhole";
      links.forEach(hold);
    },
    restore() {
      if (mode === "blackhole") [...links].forEach(drop);
      mode = "forward";
    },
    kafkaSocketFactory: ({ onConnect }) => {
      const socket = net.connect({ host: "127.0.0.1", port }, onConnect);
      socket.setKeepAlive(true, 60_000);
      return socket;
    },
    async close() {
      [...links].forEach(drop);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
