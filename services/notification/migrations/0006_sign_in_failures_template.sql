-- The email an account's owner gets when many sign-ins to it failed (SignInFailuresDetected).
INSERT INTO templates (template_key, channel, subject, body) VALUES
  ('user.sign_in_failures', 'email', 'Unusual sign-in attempts on your shopmesh account', '<p>Hi {{name}},</p>\n<p>Someone tried to sign in to your account and failed {{failures}} times in the last {{window_minutes}} minutes, from {{addresses}} different addresses. Your account is not locked: you can still sign in as usual.</p>\n<p>If this was not you, choose a new password that you use nowhere else.</p>\n<p>The shopmesh team</p>');
