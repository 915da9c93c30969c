"""Audit engagements: an audit firm's workspace (scope, evidence, request list)."""
