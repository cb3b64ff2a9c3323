-- Default templates; admins change them with UpsertTemplate. Values in email bodies are
-- HTML-escaped when rendered. Keep each row on one line (a line-ending `;` ends a statement).
INSERT INTO templates (template_key, channel, subject, body) VALUES
  ('user.welcome', 'email', 'Welcome to shopmesh, {{name}}', '<p>Hi {{name}},</p>\n<p>Your shopmesh account for {{email}} is ready. Happy shopping!</p>\n<p>The shopmesh team</p>'),
  ('order.placed', 'email', 'We received your order {{order_id}}', '<p>Hi {{name}},</p>\n<p>Thank you for your order <strong>{{order_id}}</strong>. We will let you know when the payment is confirmed.</p>\n<pre>{{lines}}</pre>\n<p>Subtotal: {{subtotal}}<br>Shipping: {{shipping_fee}}<br><strong>Total: {{total}}</strong></p>\n<p>The shopmesh team</p>'),
  ('payment.succeeded', 'email', 'Payment confirmed for order {{order_id}}', '<p>Hi {{name}},</p>\n<p>We received your payment of <strong>{{amount}}</strong> for order {{order_id}}. We are preparing it for delivery.</p>\n<p>The shopmesh team</p>'),
  ('payment.failed', 'email', 'Payment failed for order {{order_id}}', '<p>Hi {{name}},</p>\n<p>Your payment of {{amount}} for order {{order_id}} did not go through: {{reason}}.</p>\n<p>Your order was not charged. You are welcome to try again.</p>\n<p>The shopmesh team</p>'),
  ('delivery.assigned', 'email', 'Order {{order_id}} is being prepared for delivery', '<p>Hi {{name}},</p>\n<p>Your order {{order_id}} will be delivered by {{partner_name}}. We will tell you when it is on its way.</p>\n<p>The shopmesh team</p>'),
  ('delivery.shipped', 'email', 'Order {{order_id}} is on its way', '<p>Hi {{name}},</p>\n<p>Your order {{order_id}} has been shipped and is on its way to you.</p>\n<p>The shopmesh team</p>'),
  ('delivery.delivered', 'email', 'Order {{order_id}} was delivered', '<p>Hi {{name}},</p>\n<p>Your order {{order_id}} was delivered. Enjoy!</p>\n<p>The shopmesh team</p>'),
  ('order.cancelled', 'email', 'Order {{order_id}} was cancelled', '<p>Hi {{name}},</p>\n<p>Your order {{order_id}} was cancelled ({{reason}}). If you were charged, the refund is on its way.</p>\n<p>The shopmesh team</p>'),
  ('payment.refunded', 'email', 'Refund for order {{order_id}}', '<p>Hi {{name}},</p>\n<p>We refunded {{amount}} for order {{order_id}} ({{reason}}). Refunded in total: {{total_refunded}}.</p>\n<p>The shopmesh team</p>'),
  ('stock.low', 'email', 'Low stock: product {{product_id}}', '<p>Product <strong>{{product_id}}</strong> is running low: {{available}} available (threshold {{threshold}}).</p>');
