"""Replay: a past period shown window by window from the stored snapshots, with no re-ingestion.

`history` says which policy versions were in force at a moment (from their audited status changes); `frames`
builds what one frame shows: the graph of the window beside the previous one on a layout fixed for the whole
period, the drift timeline with the frame marked, and the window's flows the policies in force would block.
"""
