"""Operator work: the queue of background work an operator can inspect, retry or cancel."""
