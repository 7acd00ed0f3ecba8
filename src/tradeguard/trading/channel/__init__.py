"""The local channel between gateway workers and the desk process: wire, client, server."""
