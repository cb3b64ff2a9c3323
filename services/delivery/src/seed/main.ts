/**
 * Seeds demo delivery partners through the real admin RPCs (idempotent: partners are
 * matched by name):
 *   node services/delivery/dist/seed/main.js
 * Env: IDENTITY_ADDR, DELIVERY_ADDR, IDENTITY_ADMIN_EMAIL, IDENTITY_ADMIN_PASSWORD.
 */
import { DeliveryService } from "@shopmesh/gen/shopmesh/delivery/v1/delivery_pb.js";
import { IdentityService } from "@shopmesh/gen/shopmesh/identity/v1/identity_pb.js";
import { createGrpcClient, createLogger, devDefault, loadConfig, meshTlsConfig, meshTlsFiles, runMain, serviceAddress } from "@shopmesh/platform";

/** Berlin is split between a bike courier and a cargo firm; one nationwide carrier catches every other postal code. */
export const DEMO_PARTNERS = [
  {
    name: "Berlin Bikes",
    contactEmail: "dispatch@berlin-bikes.example",
    phone: "+4930123456",
    serviceAreaPrefixes: ["10", "12", "13"],
    dailyCapacity: 40,
    maxOrderItems: 10,
    available: true,
  },
  {
    name: "Hauptstadt Cargo",
    contactEmail: "ops@hauptstadt-cargo.example",
    phone: "+4930654321",
    serviceAreaPrefixes: ["1"],
    dailyCapacity: 100,
    maxOrderItems: 0,
    available: true,
  },
  {
    name: "Hamburg Express",
    contactEmail: "hello@hamburg-express.example",
    phone: "+4940111222",
    serviceAreaPrefixes: ["20", "21", "22"],
    dailyCapacity: 60,
    maxOrderItems: 25,
    available: true,
  },
  {
    name: "Munich Couriers",
    contactEmail: "team@munich-couriers.example",
    phone: "+4989333444",
    serviceAreaPrefixes: ["80", "81"],
    dailyCapacity: 50,
    maxOrderItems: 15,
    available: true,
  },
  {
    name: "Weekend Van",
    contactEmail: "van@weekend.example",
    phone: "+4930777888",
    serviceAreaPrefixes: ["1", "2", "8"],
    dailyCapacity: 20,
    maxOrderItems: 0,
    available: false,
  },
  {
    name: "Nationwide Parcel",
    contactEmail: "support@nationwide-parcel.example",
    phone: "+4969999000",
    serviceAreaPrefixes: ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"],
    dailyCapacity: 500,
    maxOrderItems: 0,
    available: true,
  },
];

const seedConfigShape = {
  ...meshTlsConfig,
  IDENTITY_ADDR: serviceAddress("identity"),
  DELIVERY_ADDR: serviceAddress("delivery"),
  IDENTITY_ADMIN_EMAIL: devDefault("admin@shopmesh.local"),
  IDENTITY_ADMIN_PASSWORD: devDefault("admin-password"),
};

runMain(async () => {
  const config = loadConfig(seedConfigShape);
  // With mesh TLS the seed calls as the operator identity (its MESH_* files).
  const meshTls = meshTlsFiles(config);
  const logger = createLogger({ service: "delivery-seed", level: "warn" });
  const identity = createGrpcClient(IdentityService, { meshTls, address: config.IDENTITY_ADDR, logger, defaultTimeoutMs: 10_000 });
  const delivery = createGrpcClient(DeliveryService, { meshTls, address: config.DELIVERY_ADDR, logger, defaultTimeoutMs: 10_000 });
  try {
    const { tokens } = await identity.login({ email: config.IDENTITY_ADMIN_EMAIL, password: config.IDENTITY_ADMIN_PASSWORD });
    const headers = { authorization: `Bearer ${tokens!.accessToken}` };
    const existing = new Set<string>();
    let pageToken = "";
    do {
      const page = await delivery.listPartners({ pageSize: 100, pageToken }, { headers });
      page.partners.forEach((partner) => existing.add(partner.name));
      pageToken = page.nextPageToken;
    } while (pageToken);
    let created = 0;
    for (const partner of DEMO_PARTNERS) {
      if (existing.has(partner.name)) continue;
      await delivery.createPartner({ partner }, { headers });
      created++;
    }
    process.stdout.write(`seed: delivery partners ${created} created / ${DEMO_PARTNERS.length - created} existing\n`);
  } finally {
    identity.close();
    delivery.close();
  }
});
