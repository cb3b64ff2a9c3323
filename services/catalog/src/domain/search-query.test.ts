import { prefixQuery } from "./search-query.js";

describe("prefixQuery", () => {
  test("when a word is misspelt near its end, then its prefix still matches the right word", () => {
    expect(prefixQuery("runnign")).toBe("runni*");
    expect("running".startsWith(prefixQuery("runnign")!.slice(0, -1))).toBe(true);
  });

  test("when the text holds boolean-mode operators, then they are dropped and only words remain", () => {
    expect(prefixQuery('+red -"shoe" (chair)~ <desk>')).toBe("red* shoe* chai* desk*");
  });

  test("when no word is long enough to be indexed, then there is no query", () => {
    expect(prefixQuery("a to *")).toBeUndefined();
  });

  test("when words repeat, then each appears once", () => {
    expect(prefixQuery("lamp Lamp LAMP")).toBe("lamp*");
  });
});
