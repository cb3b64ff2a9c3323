import {
  getOption,
  hasOption,
  ScalarType,
  type DescEnum,
  type DescEnumValue,
  type DescExtension,
  type DescField,
  type DescFile,
  type DescMessage,
  type DescMethod,
  type DescService,
} from "@bufbuild/protobuf";
import { reflect, type ReflectMessage } from "@bufbuild/protobuf/reflect";
import {
  field as fieldRules,
  FieldRulesSchema,
  message as messageRules,
  MessageRulesSchema,
  oneof as oneofRules,
  OneofRulesSchema,
} from "@bufbuild/protovalidate/gen/buf/validate/validate_pb.js";
import { Auth, AuthSchema, rule } from "@shopmesh/gen/shopmesh/policy/v1/policy_pb.js";

const REGENERATE = "npm run build && npm run docs:generate   (check: npm run docs:check)";

type Documented = DescMessage | DescEnum | DescEnumValue | DescField | DescService | DescMethod | DescExtension;

/** The source-info path of a declaration (descriptor.proto field numbers), to find its comment. */
function pathOf(desc: Documented): number[] {
  switch (desc.kind) {
    case "message":
      return desc.parent ? [...pathOf(desc.parent), 3, desc.parent.proto.nestedType.indexOf(desc.proto)] : [4, desc.file.proto.messageType.indexOf(desc.proto)];
    case "enum":
      return desc.parent ? [...pathOf(desc.parent), 4, desc.parent.proto.enumType.indexOf(desc.proto)] : [5, desc.file.proto.enumType.indexOf(desc.proto)];
    case "enum_value":
      return [...pathOf(desc.parent), 2, desc.parent.proto.value.indexOf(desc.proto)];
    case "field":
      return [...pathOf(desc.parent), 2, desc.parent.proto.field.indexOf(desc.proto)];
    case "service":
      return [6, desc.file.proto.service.indexOf(desc.proto)];
    case "rpc":
      return [...pathOf(desc.parent), 2, desc.parent.proto.method.indexOf(desc.proto)];
    case "extension":
      return desc.parent ? [...pathOf(desc.parent), 6, desc.parent.proto.extension.indexOf(desc.proto)] : [7, desc.file.proto.extension.indexOf(desc.proto)];
  }
}

/** The leading comment of a declaration (or of the file's `package` statement), without the `// ` prefixes. */
export function commentOf(file: DescFile, desc?: Documented): string {
  const path = desc ? pathOf(desc) : [2];
  const location = file.proto.sourceCodeInfo?.location.find(
    (candidate) => candidate.path.length === path.length && candidate.path.every((n, i) => n === path[i]),
  );
  return (location?.leadingComments ?? "")
    .split("\n")
    .map((line) => line.replace(/^ /, "").trimEnd())
    .join("\n")
    .trim();
}

/** Markdown text from a comment: `<placeholder>` outside code spans stays visible rather than becoming an HTML tag. */
function prose(text: string): string {
  return text
    .split("`")
    .map((part, i) => (i % 2 === 0 ? part.replaceAll("<", "&lt;") : part))
    .join("`");
}

/** A table cell: one line, pipes escaped (also inside code spans, as GitHub tables require). */
function cell(text: string): string {
  return prose(text).replaceAll("\n", " ").replaceAll("|", "\\|");
}

function code(text: string): string {
  return `\`${text}\``;
}

function table(header: string[], rows: string[][]): string[] {
  return [`| ${header.join(" | ")} |`, `| ${header.map(() => "---").join(" | ")} |`, ...rows.map((row) => `| ${row.join(" | ")} |`)];
}

function scalarName(scalar: ScalarType): string {
  return ScalarType[scalar].toLowerCase();
}

/** A field's type as written in the .proto, names relative to the file's package. */
export function typeOf(field: DescField | DescExtension): string {
  const local = (typeName: string) => {
    const pkg = `${(field.kind === "extension" ? field.file : field.parent.file).proto.package}.`;
    return typeName.startsWith(pkg) ? typeName.slice(pkg.length) : typeName;
  };
  const optional = field.proto.proto3Optional ? "optional " : "";
  switch (field.fieldKind) {
    case "scalar":
      return optional + scalarName(field.scalar);
    case "enum":
      return optional + local(field.enum.typeName);
    case "message":
      return optional + local(field.message.typeName);
    case "list":
      return `repeated ${field.listKind === "scalar" ? scalarName(field.scalar) : local(field.listKind === "enum" ? field.enum.typeName : field.message.typeName)}`;
    case "map": {
      const value = field.mapKind === "scalar" ? scalarName(field.scalar) : local(field.mapKind === "enum" ? field.enum.typeName : field.message.typeName);
      return `map<${scalarName(field.mapKey)}, ${value}>`;
    }
  }
}

function scalarText(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (value instanceof Uint8Array) return `b64:${Buffer.from(value).toString("base64")}`;
  return String(value);
}

/**
 * protovalidate rules, each as its path in buf.validate's rule messages, the way the rule ids of
 * violations read: `string.max_len = 64`, `string.uuid`, `required`, `cel[id]: expression`.
 */
export function describeRules(rules: ReflectMessage, prefix = ""): string[] {
  const described: string[] = [];
  for (const field of rules.fields) {
    if (!rules.isSet(field)) continue;
    const name = `${prefix}${field.name}`;
    if (field.fieldKind === "message") {
      described.push(...describeRules(rules.get(field), `${name}.`));
    } else if (field.fieldKind === "list" && field.listKind === "message") {
      for (const item of rules.get(field)) {
        const cel = item as ReflectMessage;
        const text = (fieldName: string) => String(cel.get(cel.desc.field[fieldName]!));
        described.push(
          field.message.typeName === "buf.validate.Rule" ? `${name}[${text("id")}]: ${text("expression")}` : describeRules(cel, `${name}.`).join(", "),
        );
      }
    } else if (field.fieldKind === "list") {
      described.push(`${name} = [${[...rules.get(field)].map(scalarText).join(", ")}]`);
    } else if (field.fieldKind === "enum") {
      const number = rules.get(field);
      described.push(`${name} = ${field.enum.value[number]?.name ?? number}`);
    } else if (field.fieldKind === "scalar") {
      const value = rules.get(field);
      described.push(value === true ? name : `${name} = ${scalarText(value)}`);
    }
  }
  return described;
}

function fieldRulesOf(field: DescField): string[] {
  return hasOption(field, fieldRules) ? describeRules(reflect(FieldRulesSchema, getOption(field, fieldRules))) : [];
}

function messageRulesOf(message: DescMessage): string[] {
  const rules = hasOption(message, messageRules) ? describeRules(reflect(MessageRulesSchema, getOption(message, messageRules))) : [];
  for (const oneof of message.oneofs) {
    if (hasOption(oneof, oneofRules)) rules.push(...describeRules(reflect(OneofRulesSchema, getOption(oneof, oneofRules)), `(oneof ${oneof.name}) `));
  }
  return rules;
}

/** The `(shopmesh.policy.v1.rule)` of an RPC, with the platform's defaults spelled out. */
function policyOf(method: DescMethod) {
  const declared = hasOption(method, rule) ? getOption(method, rule) : undefined;
  const auth = declared?.auth ?? Auth.UNSPECIFIED;
  return {
    kind: method.methodKind === "unary" ? "unary" : method.methodKind.replace("_streaming", " stream"),
    auth: auth === Auth.UNSPECIFIED ? "INTERNAL" : AuthSchema.value[auth]!.name.replace(/^AUTH_/, ""),
    roles: declared?.roles ?? [],
    rateLimit: declared?.rateLimit || "default",
    idempotent: declared?.idempotent ?? false,
    timeoutMs: declared?.timeoutMs ?? 0,
  };
}

function describePolicy(method: DescMethod): string {
  const policy = policyOf(method);
  return [
    `**${policy.kind}**`,
    `auth ${code(policy.auth)}`,
    ...(policy.roles.length ? [`roles ${policy.roles.map(code).join(", ")}`] : []),
    `rate limit ${code(policy.rateLimit)}`,
    ...(policy.idempotent ? ["idempotent"] : []),
    ...(policy.timeoutMs ? [`timeout ${policy.timeoutMs} ms`] : []),
  ].join(" · ");
}

function localName(desc: DescMessage | DescEnum): string {
  return desc.typeName.slice(desc.file.proto.package.length + 1);
}

function paragraph(text: string): string[] {
  return text ? [prose(text), ""] : [];
}

function renderService(file: DescFile, service: DescService): string[] {
  const lines = [`### service ${code(service.name)}`, "", ...paragraph(commentOf(file, service))];
  for (const method of service.methods) {
    const signature = `${code(localName(method.input))} → ${method.methodKind === "server_streaming" ? "stream " : ""}${code(localName(method.output))}`;
    lines.push(`#### rpc ${code(method.name)}`, "", `${signature} · ${describePolicy(method)}`, "", ...paragraph(commentOf(file, method)));
  }
  return lines;
}

function renderMessage(file: DescFile, message: DescMessage): string[] {
  if (message.proto.options?.mapEntry) return [];
  const lines = [`### message ${code(localName(message))}`, "", ...paragraph(commentOf(file, message))];
  const rules = messageRulesOf(message);
  if (rules.length) lines.push(`Validation: ${rules.map((text) => code(text)).join(", ")}`, "");
  if (message.fields.length) {
    const rows = message.fields.map((field) => [
      code(field.name),
      String(field.number),
      cell(code(typeOf(field)) + (field.oneof ? ` (oneof ${code(field.oneof.name)})` : "")),
      cell(fieldRulesOf(field).map(code).join(", ")),
      cell(commentOf(file, field)),
    ]);
    lines.push(...table(["Field", "#", "Type", "Validation", "Description"], rows), "");
  }
  for (const nested of message.nestedMessages) lines.push(...renderMessage(file, nested));
  for (const nested of message.nestedEnums) lines.push(...renderEnum(file, nested));
  return lines;
}

function renderEnum(file: DescFile, desc: DescEnum): string[] {
  const rows = desc.values.map((value) => [code(value.name), String(value.number), cell(commentOf(file, value))]);
  return [`### enum ${code(localName(desc))}`, "", ...paragraph(commentOf(file, desc)), ...table(["Value", "Number", "Description"], rows), ""];
}

function renderExtension(file: DescFile, extension: DescExtension): string[] {
  const target = `${code(extension.extendee.typeName)} field ${extension.number}, type ${code(typeOf(extension))}`;
  return [`### extension ${code(`(${extension.typeName})`)}`, "", `Extends ${target}.`, "", ...paragraph(commentOf(file, extension))];
}

function renderFile(file: DescFile): string[] {
  return [
    `## ${code(file.proto.name)}`,
    "",
    `Package ${code(file.proto.package)}.`,
    "",
    ...paragraph(commentOf(file)),
    ...file.services.flatMap((service) => renderService(file, service)),
    ...file.messages.flatMap((message) => renderMessage(file, message)),
    ...file.enums.flatMap((desc) => renderEnum(file, desc)),
    ...file.extensions.flatMap((extension) => renderExtension(file, extension)),
  ];
}

function renderPolicyTable(files: DescFile[]): string[] {
  const rows = files.flatMap((file) =>
    file.services.flatMap((service) =>
      service.methods.map((method) => {
        const policy = policyOf(method);
        return [
          code(`/${service.typeName}/${method.name}`),
          policy.kind,
          policy.auth,
          policy.roles.join(", "),
          policy.rateLimit,
          policy.idempotent ? "yes" : "",
          policy.timeoutMs ? String(policy.timeoutMs) : "",
        ];
      }),
    ),
  );
  return table(["RPC path", "Kind", "Auth", "Roles (any)", "Rate limit", "Idempotent", "Timeout ms"], rows);
}

/** docs/api.md: the hand-kept conventions, then every shopmesh file's services, messages and enums. */
export function renderApiDoc(files: DescFile[]): string {
  return [
    `<!-- GENERATED by tools/api-docs from proto/ (comments, policy options, buf.validate rules). Do not edit. Regenerate: ${REGENERATE} -->`,
    "",
    "# shopmesh API reference",
    "",
    "The contracts in `proto/` are the API, and this page is generated from them: their comments, each RPC's",
    "`(shopmesh.policy.v1.rule)` and each field's `buf.validate` rules. Generated code lives in `gen/src` (package",
    '`@shopmesh/gen`, e.g. `import { CatalogService } from "@shopmesh/gen/shopmesh/catalog/v1/catalog_pb.js"`).',
    "",
    "## Layout",
    "",
    ...table(
      ["Path", "Package", "What"],
      [
        [
          "`proto/shopmesh/policy/v1/policy.proto`",
          "`shopmesh.policy.v1`",
          "`(shopmesh.policy.v1.rule)` method option: auth, roles, rate-limit class, idempotency, timeout",
        ],
        ["`proto/shopmesh/type/v1/{money,address}.proto`", "`shopmesh.type.v1`", "`Money` (currency + `amount_minor`, never negative), `PostalAddress`"],
        [
          "`proto/shopmesh/<context>/v1/<context>.proto`",
          "`shopmesh.<context>.v1`",
          "one service per context: identity, catalog, inventory, cart, order, payment, delivery, notification",
        ],
        [
          "`proto/shopmesh/events/v1/<context>_events.proto`",
          "`shopmesh.events.v1`",
          "Kafka event payloads, one file per producing context; field 1 = aggregate id (the Kafka key), field 2 = `occurred_time`",
        ],
        [
          "`proto/envoy/...`",
          "`envoy.*.v3`",
          "wire-compatible subset of Envoy's `RateLimitService` (for the ratelimit service); Envoy's names, not linted, not listed here",
        ],
        [
          "`third_party/`",
          "`buf.validate`, `grpc.health.v1`, `grpc.reflection.v1`",
          "vendored upstream protos (versions and licences in `third_party/README.md`)",
        ],
      ],
    ),
    "",
    "## Conventions",
    "",
    "- Every shopmesh RPC carries `option (shopmesh.policy.v1.rule)` with `auth` set. `AUTH_PUBLIC` and",
    "  `AUTH_USER` are routed at the edge; `AUTH_INTERNAL` never is. Methods without a rule (Envoy's",
    "  `ShouldRateLimit`) are treated as internal.",
    "- Request validation is protovalidate (`buf.validate`) in the contract; servers reject bad input",
    "  with `INVALID_ARGUMENT` and the violation list before any handler runs. The Validation columns",
    "  below name each rule by its path in `buf.validate`, as the violations' rule ids do.",
    "- Ids are strings (UUIDv7); request ids are validated with `string.uuid`. Lists take",
    "  `page_size` (0..100, 0 = server default) and `page_token` (max 512) and return `next_page_token`.",
    "  Updates take the resource plus a `google.protobuf.FieldMask update_mask`, restricted with",
    "  `field_mask.in` to the client-settable fields. Timestamps are `google.protobuf.Timestamp`.",
    "- Resources with output-only fields (`Product`, `Partner`) validate formats only when a field is",
    "  set; Create requests add `cel` rules for the required fields, Update requests require the id.",
    "- Cart RPCs never take a user id: the user is the caller. Order/payment/delivery reads check",
    "  ownership in the service (NOT_FOUND for someone else's resource).",
    "- Refunds: cancelling a paid order needs no RPC; payment consumes `OrderCancelled` (it carries",
    "  `payment_id`) and refunds. `PaymentService.RefundPayment` is the admin tool for manual refunds.",
    "- `OrderService.WatchOrder` is server-streaming: first the current order, then one message per",
    "  change with the CloudEvents type/id of the event that caused it.",
    "",
    "## Tooling",
    "",
    "- `npx buf lint`, `npx buf build`, `npx buf generate` work as they are in a fresh clone: `buf.yaml` is a",
    "  workspace of `proto/` and `third_party/` (the vendored `buf/validate`, `grpc/health` and `grpc/reflection`).",
    "- `npm run generate` — `buf generate` into `gen/src` (commit the result).",
    "- `npm run proto:check` — lint, format, breaking (against `main` and `HEAD~1`, or `$PROTO_BREAKING_AGAINST`),",
    "  generated code up to date (`CI=true` / `--require-committed`: also committed).",
    "- `npm run docs:generate` — this page (`npm run docs:check` in `npm test` fails when it is stale).",
    "",
    "## RPC policy",
    "",
    ...renderPolicyTable(files),
    "",
    ...files.flatMap(renderFile),
  ].join("\n");
}
