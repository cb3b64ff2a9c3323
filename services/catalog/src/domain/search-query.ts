/** Shortest word the FULLTEXT index holds (innodb_ft_min_token_size defaults to 3). */
const MIN_TOKEN = 3;

/**
 * Turns free text into a MariaDB boolean-mode prefix query for the fallback search used when
 * natural-language mode finds nothing. Long words are cut to their first ~60% (`runnign` ->
 * `runni*`) so partial and slightly misspelt words still find something; typos in the first
 * part of a word are not forgiven. Boolean operators in the input are dropped (they are
 * syntax, not words). Returns undefined when no usable word remains.
 */
export function prefixQuery(text: string): string | undefined {
  const stems = text
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((word) => word.length >= MIN_TOKEN)
    .slice(0, 10)
    .map((word) => (word.length <= 4 ? word : word.slice(0, Math.max(MIN_TOKEN + 1, Math.ceil(word.length * 0.6)))));
  if (stems.length === 0) return undefined;
  return [...new Set(stems)].map((stem) => `${stem}*`).join(" ");
}

export type SearchOrder = "relevance" | "price_asc" | "price_desc" | "newest";

/** What narrows and orders a search, the same for the engine and the database fallback. */
export interface SearchFilters {
  categoryId: string;
  /** Any of these `brand` attributes; empty: any brand. */
  brands: readonly string[];
  /** Minor units, inclusive; 0 = no bound. */
  minPriceMinor: bigint;
  maxPriceMinor: bigint;
  /** Only products inventory last reported with units available. */
  inStock: boolean;
  order: SearchOrder;
}
