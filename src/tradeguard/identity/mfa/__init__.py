"""Second factors: TOTP, WebAuthn, one-time codes and backup codes."""
