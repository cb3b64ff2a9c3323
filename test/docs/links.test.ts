// The README, docs/ and every other Markdown file link only to what a clone has: every relative
// link and image, read by a Markdown parser (marked, so reference-style links and code spans are
// understood), names a file or folder the repository tracks. Links out (http, mailto) are not followed.
import { readFileSync } from "node:fs";
import { join, posix } from "node:path";
import { marked, type Token } from "marked";
import { repositoryFiles, ROOT } from "../deploy/tools.js";

const FILES = new Set(repositoryFiles());
/** The README, docs/ and every other Markdown file the repository tracks. */
const DOCUMENTS = [...FILES].filter((path) => path.endsWith(".md")).sort();

/** Every link and image target in a Markdown document. */
function targets(markdown: string): string[] {
  const found: string[] = [];
  marked.walkTokens(marked.lexer(markdown), (token: Token) => {
    if (token.type === "link" || token.type === "image") found.push(token.href);
  });
  return found;
}

/** Where a relative target points from `document`, as a repository path; undefined for links out. */
function resolve(document: string, target: string): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith("//") || target.startsWith("#")) return undefined;
  const path = decodeURIComponent(target.replace(/[?#].*$/, ""));
  return posix.normalize(posix.join(posix.dirname(document), path)).replace(/\/$/, "");
}

const inRepository = (path: string) => FILES.has(path) || [...FILES].some((file) => file.startsWith(`${path}/`));

test.each(DOCUMENTS)("when %s links to a relative path, then the path is a file or folder in the repository", (document) => {
  const links = targets(readFileSync(join(ROOT, document), "utf8"));
  if (document === "README.md") expect(links.length).toBeGreaterThan(10);
  const broken = links.filter((target) => {
    const path = resolve(document, target);
    return path !== undefined && (path.startsWith("..") || !inRepository(path));
  });
  expect(broken).toEqual([]);
});

test("when the Markdown parser reads a document, then it finds relative links, reference links and images, and skips links out and code", () => {
  const markdown = "[a](docs/a.md) ![b](b.png) [c][ref] [out](https://example.com) `[no](code.md)`\n\n[ref]: ./c.md\n";
  expect(targets(markdown)).toEqual(["docs/a.md", "b.png", "./c.md", "https://example.com"]);
  expect(resolve("docs/x.md", "../README.md#top")).toBe("README.md");
  expect(resolve("README.md", "../shared/ARCHITECTURE.md")).toBe("../shared/ARCHITECTURE.md");
  expect(resolve("README.md", "https://example.com")).toBeUndefined();
});
