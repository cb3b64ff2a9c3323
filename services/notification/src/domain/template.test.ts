import { escapeHtml, MissingTemplateVariablesError, placeholdersOf, renderTemplate } from "./template.js";

const template = { subject: "Order {{order_id}} for {{ name }}", body: "<p>Hi {{name}}, total {{total}}</p>" };

describe("renderTemplate", () => {
  test("when every placeholder has a value, then subject and body are filled", () => {
    const rendered = renderTemplate(template, { order_id: "o-1", name: "Jane", total: "EUR 12.00", unused: "x" }, { html: true });
    expect(rendered).toEqual({ subject: "Order o-1 for Jane", body: "<p>Hi Jane, total EUR 12.00</p>" });
  });

  test("when a value holds markup, then the HTML body gets it escaped and the subject verbatim", () => {
    const rendered = renderTemplate(template, { order_id: "<b>1</b>", name: `O'Brien & "Sons"`, total: "<script>" }, { html: true });
    expect(rendered.body).toBe("<p>Hi O&#39;Brien &amp; &quot;Sons&quot;, total &lt;script&gt;</p>");
    expect(rendered.subject).toBe(`Order <b>1</b> for O'Brien & "Sons"`);
  });

  test("when the message is not HTML (SMS), then values are not escaped", () => {
    expect(renderTemplate({ subject: "", body: "Code {{code}} & more" }, { code: "<1>" }, { html: false }).body).toBe("Code <1> & more");
  });

  test("when a value has line breaks, then the subject keeps one line (no header injection)", () => {
    const rendered = renderTemplate(template, { order_id: "1\r\nBcc: evil@example.com", name: "x", total: "y" }, { html: true });
    expect(rendered.subject).toBe("Order 1 Bcc: evil@example.com for x");
  });

  test("when variables are missing, then rendering fails naming each of them once", () => {
    let error: unknown;
    try {
      renderTemplate(template, { name: "Jane" }, { html: true });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(MissingTemplateVariablesError);
    expect((error as MissingTemplateVariablesError).missing).toEqual(["order_id", "total"]);
  });

  test("when a value is the empty string, then it counts as present", () => {
    expect(renderTemplate({ subject: "s", body: "[{{note}}]" }, { note: "" }, { html: true }).body).toBe("[]");
  });

  test("when a placeholder names an Object prototype property, then it is still missing", () => {
    expect(() => renderTemplate({ subject: "", body: "{{constructor}}" }, {}, { html: false })).toThrow(MissingTemplateVariablesError);
  });

  test("when braces do not form a placeholder, then they are left as text", () => {
    expect(renderTemplate({ subject: "", body: "{{ not closed and {single}" }, {}, { html: false }).body).toBe("{{ not closed and {single}");
  });
});

test("placeholdersOf lists distinct names in order of first use", () => {
  expect(placeholdersOf("{{b}} {{ a }} {{b}}")).toEqual(["b", "a"]);
});

test("escapeHtml escapes the five significant characters", () => {
  expect(escapeHtml(`&<>"'`)).toBe("&amp;&lt;&gt;&quot;&#39;");
});
