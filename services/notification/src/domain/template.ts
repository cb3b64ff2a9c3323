/** A `{{ name }}` placeholder; names are letters, digits, `_`, `.` and `-`. */
const PLACEHOLDER = /\{\{\s*([A-Za-z0-9_.-]+)\s*\}\}/g;

/** Rendering needs a value for every placeholder; a half-filled message is never sent. */
export class MissingTemplateVariablesError extends Error {
  override name = "MissingTemplateVariablesError";
  constructor(readonly missing: readonly string[]) {
    super(`template variables missing: ${missing.join(", ")}`);
  }
}

export interface TemplateText {
  subject: string;
  body: string;
}

export interface RenderOptions {
  /** Escape values for HTML (email bodies). The subject is a header: never escaped, newlines removed. */
  html: boolean;
}

const HTML_ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (char) => HTML_ESCAPES[char]!);
}

/** The distinct placeholder names in `text`, in order of first use. */
export function placeholdersOf(text: string): string[] {
  return [...new Set([...text.matchAll(PLACEHOLDER)].map((match) => match[1]!))];
}

function fill(text: string, data: Readonly<Record<string, string>>, encode: (value: string) => string): string {
  return text.replace(PLACEHOLDER, (_placeholder, name: string) => encode(data[name]!));
}

/**
 * Fills a template's subject and body from `data`. Every placeholder must have a value
 * (an empty string counts); otherwise it throws MissingTemplateVariablesError naming all
 * of them. Unused data is ignored.
 */
export function renderTemplate(template: TemplateText, data: Readonly<Record<string, string>>, options: RenderOptions): TemplateText {
  const missing = placeholdersOf(`${template.subject}\n${template.body}`).filter((name) => !Object.hasOwn(data, name));
  if (missing.length > 0) throw new MissingTemplateVariablesError(missing);
  return {
    subject: fill(template.subject, data, (value) => value.replace(/[\r\n]+/g, " ")),
    body: fill(template.body, data, options.html ? escapeHtml : (value) => value),
  };
}
