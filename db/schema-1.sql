-- wazlab database schema, version 1.
--
-- The writer applies this file to an empty database in one transaction and
-- the last statement records the version in PRAGMA user_version. A later
-- schema-N.sql holds only the statements that take a version N-1 database
-- to version N, and ends by setting user_version to N.
--
-- Times are UTC ISO 8601 text with milliseconds (2026-12-04T16:35:30.123Z),
-- so they sort as text and work with SQLite's date functions. Columns named
-- *_json or holding groups, mitre, fields and alert contain JSON text, which
-- json_extract() and json_each() read.

-- The archive: every message as received, so stored events can be run again
-- through changed rules.
CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    received TEXT NOT NULL,
    agent_id TEXT,
    agent_name TEXT,
    agent_ip TEXT,
    location TEXT,
    message BLOB NOT NULL, -- "<queue>:<location>:<log>", byte for byte
    decoder TEXT,          -- NULL when no decoder matched
    fields TEXT            -- decoded fields as a JSON object
);
CREATE INDEX events_received ON events (received);
CREATE INDEX events_agent_id ON events (agent_id);

-- One row per alert, with the columns that queries filter on and the whole
-- alert as Wazuh writes it to alerts.json.
CREATE TABLE alerts (
    id INTEGER PRIMARY KEY,
    timestamp TEXT NOT NULL,
    agent_id TEXT,
    agent_name TEXT,
    agent_ip TEXT,
    rule_id INTEGER NOT NULL,
    level INTEGER NOT NULL,
    description TEXT,
    groups TEXT,  -- JSON array of group names
    mitre TEXT,   -- JSON array of MITRE ATT&CK technique ids
    location TEXT,
    decoder TEXT,
    full_log TEXT,
    fields TEXT,  -- decoded fields as a JSON object
    alert TEXT,   -- the whole alert JSON, one alerts.json line
    event_id INTEGER REFERENCES events (id) -- archived event, or NULL
);
CREATE INDEX alerts_rule_id ON alerts (rule_id);
CREATE INDEX alerts_level ON alerts (level);
CREATE INDEX alerts_timestamp ON alerts (timestamp);
CREATE INDEX alerts_agent_id ON alerts (agent_id);

-- Registered agents, with the columns of Wazuh's agent list.
CREATE TABLE agents (
    id TEXT PRIMARY KEY,           -- '001'; '000' is the manager itself
    name TEXT NOT NULL,
    ip TEXT,                       -- address the agent connects from
    register_ip TEXT,              -- address or 'any' given at enrollment
    key_hash TEXT,                 -- hash of the agent key, never the key
    version TEXT,                  -- 'Wazuh v4.14.7'
    os_name TEXT,
    os_version TEXT,
    os_platform TEXT,
    os_arch TEXT,
    os_uname TEXT,                 -- the uname line of the keepalive
    groups TEXT,                   -- comma-separated, as Wazuh's 'group'
    config_sum TEXT,               -- MD5 of the agent's shared agent.conf
    merged_sum TEXT,               -- MD5 of its merged.mg
    node_name TEXT,
    registered TEXT NOT NULL,      -- enrollment time
    last_keepalive TEXT,
    disconnection_time TEXT,
    status TEXT NOT NULL DEFAULT 'never_connected'
        CHECK (status IN ('active', 'pending', 'disconnected',
                          'never_connected'))
);
CREATE INDEX agents_name ON agents (name);

PRAGMA user_version = 1;
