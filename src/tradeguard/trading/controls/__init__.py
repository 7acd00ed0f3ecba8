"""Trading controls: halts and kill switch, account standing, limits, lists, locates, close-outs."""
