"""Access: permissions, roles and the checks that apply them."""
