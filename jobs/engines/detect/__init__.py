"""Detection an analyst can trust: scans, brute force, intrusions and beacons, grouped into incidents.

Pure engines over polars frames (no I/O), one step per module:

    home.HomeNetworks.of(cidrs, sensors=…)        which networks are ours (private ranges + sensors by default)
    frame.prepare(canonical, home)                 the detection frame: seconds, direction, answered, actor
    answered.zeek_answered / vpc_answered / …      the `answered` flag, as expressions a parser can add
    home.exposed_services(frame)                   home host:port that many outside sources reach
    campaigns.find_campaigns(frame)                scans and brute force of a window (findings)
    intrusions.find_intrusions(window, history)    a long session after many failures: critical
    beacons.extend_history / score_beacons         RITA-style beacons over a rolling day of connections
    beacon_findings / habits                       a beacon's risk and explanation; what is already known
    pipeline.detect_window(state, frame)           one window through all of the above, state carried along
    incidents.group_incidents(findings)            findings → incidents per entity and kind, with summaries
    ranking.rank_incidents(incidents, feedback)    reading order, moved by analysts' verdicts

Every finding and incident carries risk 0–100 and a severity; nothing is critical unless something got in.
"""
