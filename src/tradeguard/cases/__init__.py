"""Alerts and cases shared by every watcher: one store, one queue, cases staff work."""
