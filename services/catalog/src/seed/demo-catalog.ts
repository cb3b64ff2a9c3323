/**
 * The deterministic demo catalog: the same categories and products (and stock levels) on
 * every run, generated from word lists with a seeded PRNG, so seeding is repeatable and
 * idempotent by SKU.
 */

export interface DemoCategory {
  slug: string;
  name: string;
  description: string;
  /** SKU prefix. */
  code: string;
  nouns: readonly string[];
  /** Price range in whole currency units. */
  price: readonly [min: number, max: number];
  attributes: (random: Random) => Record<string, string>;
}

export interface DemoProduct {
  sku: string;
  name: string;
  description: string;
  categorySlug: string;
  priceMinor: bigint;
  currency: string;
  attributes: Record<string, string>;
  imageUrl: string;
  /** Units on hand to set in inventory: mostly plenty, a few low, a few sold out. */
  stock: number;
}

/** mulberry32: tiny, fast, good enough for demo data, and the same on every platform. */
export function createRandom(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (min: number, max: number) => min + Math.floor(next() * (max - min + 1)),
    pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!,
  };
}
export type Random = ReturnType<typeof createRandom>;

const COLORS = ["black", "white", "graphite", "navy", "forest green", "sand", "terracotta", "slate blue", "burgundy", "silver", "olive", "charcoal"];
const SIZES = ["XS", "S", "M", "L", "XL", "XXL"];
const MATERIALS = ["oak", "walnut", "steel", "aluminium", "bamboo", "recycled plastic", "ceramic", "glass", "linen", "cotton", "wool", "leather"];

export const DEMO_CATEGORIES: readonly DemoCategory[] = [
  {
    slug: "electronics",
    name: "Electronics",
    description: "Headphones, speakers, chargers and gadgets.",
    code: "ELEC",
    nouns: [
      "Wireless Headphones",
      "Bluetooth Speaker",
      "USB-C Charger",
      "Power Bank",
      "Smart Watch",
      "Webcam",
      "Mechanical Keyboard",
      "Wireless Mouse",
      "Earbuds",
      "Action Camera",
    ],
    price: [15, 400],
    attributes: (r) => ({ color: r.pick(COLORS), warranty: `${r.int(1, 3)} years`, battery: `${r.int(8, 60)} h` }),
  },
  {
    slug: "home-kitchen",
    name: "Home & Kitchen",
    description: "Cookware, tableware and small appliances.",
    code: "HOME",
    nouns: [
      "Chef's Knife",
      "Cast Iron Skillet",
      "French Press",
      "Kettle",
      "Cutting Board",
      "Mixing Bowl Set",
      "Toaster",
      "Espresso Cups",
      "Saucepan",
      "Spice Rack",
    ],
    price: [8, 250],
    attributes: (r) => ({ material: r.pick(MATERIALS), color: r.pick(COLORS), dishwasher_safe: r.next() < 0.6 ? "yes" : "no" }),
  },
  {
    slug: "furniture",
    name: "Furniture",
    description: "Desks, chairs, shelves and storage.",
    code: "FURN",
    nouns: ["Office Chair", "Standing Desk", "Bookshelf", "Side Table", "Bar Stool", "Shoe Rack", "Floor Lamp", "Nightstand", "Coat Stand", "Storage Bench"],
    price: [35, 900],
    attributes: (r) => ({ material: r.pick(MATERIALS), color: r.pick(COLORS), weight: `${r.int(2, 40)} kg` }),
  },
  {
    slug: "outdoors",
    name: "Outdoors",
    description: "Tents, packs and gear for the trail.",
    code: "OUTD",
    nouns: [
      "Hiking Backpack",
      "Two-Person Tent",
      "Sleeping Bag",
      "Headlamp",
      "Trekking Poles",
      "Camping Stove",
      "Water Filter",
      "Rain Jacket",
      "Camp Chair",
      "Dry Bag",
    ],
    price: [12, 450],
    attributes: (r) => ({ color: r.pick(COLORS), weight: `${r.int(100, 3500)} g`, waterproof: r.next() < 0.5 ? "yes" : "no" }),
  },
  {
    slug: "sports",
    name: "Sports & Fitness",
    description: "Training gear for home and gym.",
    code: "SPRT",
    nouns: [
      "Yoga Mat",
      "Kettlebell",
      "Resistance Bands",
      "Jump Rope",
      "Foam Roller",
      "Dumbbell Pair",
      "Water Bottle",
      "Gym Bag",
      "Tennis Racket",
      "Cycling Gloves",
    ],
    price: [6, 220],
    attributes: (r) => ({ color: r.pick(COLORS), level: r.pick(["beginner", "intermediate", "pro"]) }),
  },
  {
    slug: "clothing",
    name: "Clothing",
    description: "Everyday wear for every season.",
    code: "CLTH",
    nouns: ["T-Shirt", "Hoodie", "Denim Jacket", "Chinos", "Rain Coat", "Knit Sweater", "Flannel Shirt", "Joggers", "Puffer Vest", "Polo Shirt"],
    price: [12, 180],
    attributes: (r) => ({ color: r.pick(COLORS), size: r.pick(SIZES), material: r.pick(["cotton", "wool", "linen", "polyester"]) }),
  },
  {
    slug: "shoes",
    name: "Shoes",
    description: "Sneakers, boots and running shoes.",
    code: "SHOE",
    nouns: [
      "Running Shoe",
      "Trail Runner",
      "Leather Boot",
      "Canvas Sneaker",
      "Slip-On Loafer",
      "Hiking Boot",
      "Sandal",
      "Court Sneaker",
      "Chelsea Boot",
      "Slipper",
    ],
    price: [20, 260],
    attributes: (r) => ({ color: r.pick(COLORS), eu_size: String(r.int(36, 47)) }),
  },
  {
    slug: "beauty",
    name: "Beauty & Care",
    description: "Skin care, hair care and grooming.",
    code: "BEAU",
    nouns: ["Face Serum", "Moisturiser", "Shampoo", "Beard Oil", "Hand Cream", "Lip Balm", "Sunscreen", "Body Wash", "Hair Dryer", "Electric Toothbrush"],
    price: [4, 150],
    attributes: (r) => ({ volume: `${r.pick([30, 50, 100, 250, 500])} ml`, vegan: r.next() < 0.7 ? "yes" : "no" }),
  },
  {
    slug: "toys",
    name: "Toys & Games",
    description: "Board games, puzzles and building sets.",
    code: "TOYS",
    nouns: [
      "Board Game",
      "Jigsaw Puzzle",
      "Building Blocks",
      "Plush Bear",
      "Card Game",
      "Kite",
      "Remote Control Car",
      "Wooden Train Set",
      "Marble Run",
      "Science Kit",
    ],
    price: [7, 160],
    attributes: (r) => ({ age: `${r.int(3, 12)}+`, players: `${r.int(1, 2)}-${r.int(3, 8)}` }),
  },
  {
    slug: "garden",
    name: "Garden",
    description: "Tools, planters and outdoor living.",
    code: "GARD",
    nouns: [
      "Pruning Shears",
      "Garden Hose",
      "Planter",
      "Watering Can",
      "Bird Feeder",
      "Garden Gloves",
      "Solar Lantern",
      "Compost Bin",
      "Hand Trowel",
      "Hammock",
    ],
    price: [5, 300],
    attributes: (r) => ({ material: r.pick(MATERIALS), color: r.pick(COLORS) }),
  },
  {
    slug: "office",
    name: "Office",
    description: "Stationery and desk essentials.",
    code: "OFFC",
    nouns: [
      "Notebook",
      "Fountain Pen",
      "Desk Organizer",
      "Monitor Stand",
      "Desk Mat",
      "Label Printer",
      "Whiteboard",
      "Paper Shredder",
      "Stapler",
      "Document Tray",
    ],
    price: [3, 280],
    attributes: (r) => ({ color: r.pick(COLORS), material: r.pick(MATERIALS) }),
  },
  {
    slug: "pet-supplies",
    name: "Pet Supplies",
    description: "Beds, bowls, toys and leads.",
    code: "PETS",
    nouns: ["Dog Bed", "Cat Tree", "Pet Bowl", "Dog Leash", "Chew Toy", "Cat Scratcher", "Pet Carrier", "Grooming Brush", "Aquarium Filter", "Bird Cage"],
    price: [4, 240],
    attributes: (r) => ({ pet: r.pick(["dog", "cat", "bird", "fish", "small animal"]), size: r.pick(["S", "M", "L"]) }),
  },
];

const BRANDS = [
  "Northwind",
  "Acme",
  "Lumen",
  "Kestrel",
  "Fjord",
  "Bramble",
  "Vantage",
  "Halcyon",
  "Mossgrove",
  "Tundra",
  "Orbit",
  "Cedar & Co",
  "Pinnacle",
  "Driftwood",
  "Solace",
];
const ADJECTIVES = [
  "Classic",
  "Compact",
  "Premium",
  "Eco",
  "Ultralight",
  "Heritage",
  "Modern",
  "Rugged",
  "Essential",
  "Deluxe",
  "Nordic",
  "Urban",
  "Pro",
  "Everyday",
  "Signature",
];
const QUALITIES = [
  "built to last",
  "designed for everyday use",
  "made from responsibly sourced materials",
  "tested by our team for a year",
  "backed by a generous warranty",
];

/** Products in the whole demo catalog. */
export const DEMO_CATALOG_SIZE = 1_200;

/** The demo catalog: `count` products (default all) spread evenly over the categories; a smaller count is its prefix. */
export function demoCatalog(count = DEMO_CATALOG_SIZE): DemoProduct[] {
  const random = createRandom(20_240_601);
  const products: DemoProduct[] = [];
  for (let index = 0; index < count; index++) {
    const category = DEMO_CATEGORIES[index % DEMO_CATEGORIES.length]!;
    const brand = random.pick(BRANDS);
    const adjective = random.pick(ADJECTIVES);
    const noun = random.pick(category.nouns);
    const sku = `${category.code}-${brand
      .replace(/[^A-Za-z]/g, "")
      .slice(0, 4)
      .toUpperCase()}-${String(index + 1).padStart(5, "0")}`;
    const [min, max] = category.price;
    // Prices skew cheap (most shops have more low-priced items) and end in .99 or .49.
    const whole = Math.round(min + (max - min) * random.next() ** 2);
    const priceMinor = BigInt(Math.max(1, whole) * 100 - (random.next() < 0.7 ? 1 : 51));
    const attributes = { ...category.attributes(random), brand };
    const stockRoll = random.next();
    products.push({
      sku,
      name: `${brand} ${adjective} ${noun}`,
      description: `The ${brand} ${adjective.toLowerCase()} ${noun.toLowerCase()}: ${random.pick(QUALITIES)}. ${Object.entries(attributes)
        .map(([key, value]) => `${key.replace(/_/g, " ")}: ${value}`)
        .join(", ")}.`,
      categorySlug: category.slug,
      priceMinor,
      currency: "EUR",
      attributes,
      imageUrl: `https://picsum.photos/seed/${sku}/400/400`,
      stock: stockRoll < 0.03 ? 0 : stockRoll < 0.08 ? random.int(1, 5) : random.int(10, 200),
    });
  }
  return products;
}
