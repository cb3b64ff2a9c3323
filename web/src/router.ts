import { useEffect, useState } from "preact/hooks";

/** The current hash route: "#/product/abc?x=1" -> { path: ["product", "abc"], query }. Hash routes need no server fallback. */
export interface Route {
  path: string[];
  query: URLSearchParams;
}

/** The route the address shows now (it can be ahead of the rendered one: hashchange fires later). */
export function currentRoute(): Route {
  const hash = location.hash.replace(/^#/, "") || "/";
  const [path = "/", query = ""] = hash.split("?");
  return { path: path.split("/").filter(Boolean).map(decodeURIComponent), query: new URLSearchParams(query) };
}

export function useRoute(): Route {
  const [route, setRoute] = useState(currentRoute);
  useEffect(() => {
    const onChange = () => setRoute(currentRoute());
    addEventListener("hashchange", onChange);
    return () => removeEventListener("hashchange", onChange);
  }, []);
  return route;
}

/** "#/product/<id>" with every segment encoded. */
export const href = (...segments: string[]) => `#/${segments.map(encodeURIComponent).join("/")}`;

export function navigate(to: string): void {
  location.hash = to.replace(/^#/, "");
}
