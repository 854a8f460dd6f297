-- Views over CTLive logs in lnav, raw (ctlive_log) and from the plugin's
-- stdout sink (ctlive_json) alike. lnav runs this file at start once it is
-- installed: lnav -i contrib/lnav/ctlive.sql (README: "Reading CTLive logs
-- in lnav").

-- One row per message of either format, with the contract's field names.
-- time is the message's own (log_actual_time): lnav's log_time never goes
-- back within a file, so a line written out of order would shift the times
-- of those after it. exception follows the contract: an error type on the
-- first line, a word there starting with Unhandled or the word exception, or
-- stack frames among the continuation lines (lnav's level only sees the
-- first line). message
-- is the first line after the leading tokens.
CREATE VIEW IF NOT EXISTS ctlive_lines AS
  SELECT log_line, log_actual_time AS time, log_level AS level, log_path, service, function, tenant,
         contactID, channel, userID, sessionID, messageID, errorType,
         (errorType IS NOT NULL
          OR regexp('(?i)(?<![a-z0-9])(?:unhandled|exception(?![a-z0-9]))', substr(log_text, 1, instr(log_text || char(10), char(10)) - 1))
          OR regexp('\n(?:[A-Za-z0-9._-]+ +\| )?(?:\d{4}-\d\d-\d\dT\S+ )?[ \t]*at ', log_text)) AS exception,
         substr(log_body, 1, instr(log_body || char(10), char(10)) - 1) AS message
    FROM ctlive_log
  UNION ALL
  SELECT log_line, log_actual_time, log_level, log_path, service, function, tenant,
         contactID, channel, userID, sessionID, messageID, errorType, event = 'exception', log_body
    FROM ctlive_json;

-- Exceptions, and how many each tenant had ("(none)": no tenant on the line).
CREATE VIEW IF NOT EXISTS ctlive_exceptions AS
  SELECT log_line, time, tenant, errorType, function, contactID, message
    FROM ctlive_lines WHERE exception;

CREATE VIEW IF NOT EXISTS ctlive_exceptions_by_tenant AS
  SELECT coalesce(tenant, '(none)') AS tenant, count(*) AS exceptions,
         group_concat(DISTINCT errorType) AS errorTypes, min(time) AS first, max(time) AS last
    FROM ctlive_exceptions GROUP BY 1 ORDER BY exceptions DESC, tenant;

-- The agent of a session: the user ID on the session's lines (the agent's
-- login, "USER_jdoe@acd.example.com"; only agents have sessions).
CREATE VIEW IF NOT EXISTS ctlive_session_agents AS
  SELECT sessionID, group_concat(DISTINCT userID) AS agent
    FROM ctlive_lines WHERE sessionID IS NOT NULL AND userID IS NOT NULL GROUP BY sessionID;

-- The sessions that worked on a contact (joinContact names both), and
-- their agents.
CREATE VIEW IF NOT EXISTS ctlive_contact_sessions AS
  SELECT DISTINCT contactID, sessionID FROM ctlive_lines
   WHERE contactID IS NOT NULL AND sessionID IS NOT NULL;

CREATE VIEW IF NOT EXISTS ctlive_contact_agents AS
  SELECT s.contactID, group_concat(DISTINCT a.agent) AS agent
    FROM ctlive_contact_sessions s JOIN ctlive_session_agents a ON a.sessionID = s.sessionID
   GROUP BY s.contactID;

-- Every line of a contact, with the lines of its agents' sessions that name
-- no contact (the login that returned the session, its Redis entry, its
-- socket and keepalives), and the agent's login on each row:
--   ;SELECT time, agent, function, message FROM ctlive_contact_lines
--      WHERE contact = 'CHAT_AGM_abbba71e-67b2-4f9c-ab68-dcf3f95bd32c' ORDER BY log_line
-- Joins, not a subquery per row: each reading of ctlive_lines is a pass over
-- the whole log.
CREATE VIEW IF NOT EXISTS ctlive_contact_lines AS
  SELECT l.contactID AS contact, ca.agent, l.*
    FROM ctlive_lines l LEFT JOIN ctlive_contact_agents ca ON ca.contactID = l.contactID
   WHERE l.contactID IS NOT NULL
  UNION ALL
  SELECT s.contactID, a.agent, l.*
    FROM ctlive_contact_sessions s
    JOIN ctlive_lines l ON l.sessionID = s.sessionID AND l.contactID IS NULL
    LEFT JOIN ctlive_session_agents a ON a.sessionID = s.sessionID;

-- One row per contact: its tenant (the contactID's), channel, time span,
-- lines, agents and exceptions.
CREATE VIEW IF NOT EXISTS ctlive_contacts AS
  SELECT l.contactID,
         substr(l.contactID, instr(l.contactID, '_') + 1, length(l.contactID) - instr(l.contactID, '_') - 37) AS tenant,
         l.channel, min(l.time) AS first, max(l.time) AS last, count(*) AS lines,
         ca.agent AS agents, sum(l.exception) AS exceptions
    FROM ctlive_lines l LEFT JOIN ctlive_contact_agents ca ON ca.contactID = l.contactID
   WHERE l.contactID IS NOT NULL GROUP BY l.contactID ORDER BY first;
