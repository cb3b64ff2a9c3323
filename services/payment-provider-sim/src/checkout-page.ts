import type { PaymentIntent } from "./provider.js";

const escapeHtml = (value: string) => value.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);

/**
 * The provider-hosted checkout page: one card field and a Pay button that calls confirm.
 * The card number goes from the browser to the provider only; the shop never sees it.
 */
export function checkoutPage(intent: PaymentIntent): string {
  const amount = `${(intent.amount_minor / 100).toFixed(2)} ${intent.currency}`;
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Pay ${escapeHtml(amount)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:26rem;margin:3rem auto;padding:0 1rem}input,button{font-size:1rem;padding:.5rem;width:100%;box-sizing:border-box;margin:.3rem 0}</style>
</head>
<body>
<h1>Pay ${escapeHtml(amount)}</h1>
<p>Test cards: 4242 4242 4242 4242 succeeds, 4000 0000 0000 0002 is declined, 4000 0000 0000 0259 succeeds slowly, 4000 0000 0000 9995 fails slowly.</p>
<form id="pay">
<label for="card">Card number</label>
<input id="card" name="card" inputmode="numeric" autocomplete="cc-number" required pattern="[0-9 ]{12,23}">
<button type="submit">Pay</button>
</form>
<p id="result" role="status">Status: ${escapeHtml(intent.status)}</p>
<script>
document.getElementById("pay").addEventListener("submit", async (event) => {
  event.preventDefault();
  const result = document.getElementById("result");
  const response = await fetch(${JSON.stringify(`/v1/payment_intents/${intent.id}/confirm`)}, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ card_number: document.getElementById("card").value }),
  });
  const body = await response.json();
  result.textContent = response.ok ? "Status: " + body.status : "Error: " + body.error.message;
});
</script>
</body>
</html>
`;
}
