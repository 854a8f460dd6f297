// Package loki is the "loki" sink: it ships enriched records to Loki's push
// API (or anything that speaks it, such as VictoriaLogs'
// /insert/loki/api/v1/push).
//
// Each flush becomes one push request per tenant (X-Scope-OrgID, from the
// tenant_id template), split further only to stay under max_request_size.
// Records are grouped into streams by their label set and ordered by time
// within each stream (stably, so lines with the same timestamp keep their
// order); timestamps keep their nanoseconds.
//
// # Configuration
//
//	url                 Loki's base URL, default http://127.0.0.1:3100; a path
//	                    is a prefix to which /loki/api/v1/push is appended (a
//	                    URL that already ends in /loki/api/v1/push is taken as
//	                    is). A query string is kept on every request, e.g.
//	                    ?disable_message_parsing=1 for VictoriaLogs.
//	tenant_id           X-Scope-OrgID, a template over the record ($tenant,
//	                    $TAG[1], fixed text); empty (default) sends none. A
//	                    missing value renders as "unknown", as in every
//	                    template; a value that cannot be a header (spaces,
//	                    control bytes, non-ASCII, over 150 bytes) rejects
//	                    the record.
//	labels              stream labels, comma-separated, default
//	                    "service, tenant, channel, event, level". Items, as in
//	                    Fluent Bit's loki output: a field name (`tenant`), a
//	                    record accessor (`$kubernetes['namespace_name']`,
//	                    named after its last key), `name=$accessor`, or
//	                    `name=fixed text`. A record without a value for a
//	                    label just lacks that label; a record with no label
//	                    at all gets Fluent Bit's {job="fluent-bit"}, since
//	                    Loki refuses a stream without labels. High-cardinality
//	                    fields (contactID, sessionID, messageID, userID,
//	                    time, message, url, payload, stack, error, and the
//	                    log_key) are refused: each value would be a stream.
//	label_keys          more labels, Fluent Bit's spelling ($a, $b['c']).
//	structured_metadata per-entry metadata, same item forms, default
//	                    "contactID, sessionID, messageID, userID"; "none" for
//	                    none. Searchable in Loki without being a stream;
//	                    Loki before 3.0 needs allow_structured_metadata.
//	line_format         raw (default): the original CTLive line, exactly as
//	                    received; json: the enriched record as a JSON object.
//	                    A record with no line is sent as JSON either way.
//	encoding            protobuf (default): Loki's native form, snappy
//	                    compressed; json: gzip unless compress is none.
//	                    Measured on the corpus, protobuf+snappy takes about
//	                    half the CPU of json+gzip for ~30% more bytes on the
//	                    wire (see bench_test.go).
//	max_request_size    upper bound of one push body before compression,
//	                    default 1M (Promtail's and Alloy's batch size),
//	                    from 64k to 1G.
//
// plus httpc's keys: http_user, http_passwd, bearer_token, ca_file,
// client_cert_file, client_key_file, verify_certificate, compress (json
// encoding only: protobuf is always snappy) and timeout. Keys of Fluent
// Bit's loki output that have no meaning here (uri, tenant_id_key,
// label_map_path, auto_kubernetes_labels, remove_keys, drop_single_key,
// structured_metadata_map_keys, header) fail the start with a hint, as does
// api_key.
//
// # Results
//
// 2xx marks the request's records delivered. 408, 429, 5xx and transport
// failures leave them for Fluent Bit to retry (only the records not yet
// delivered come back); a 429 skips the rest of that tenant's requests in
// the flush, a 5xx or transport failure the rest of the flush. Any other
// 4xx rejects the request's records for good: 400 is Loki refusing the data
// (too old, line too long, bad labels), and a server may have stored the
// entries before the bad one. 401/403/404 mean misconfiguration, not bad
// records: they are logged as errors and retried, like the elasticsearch
// sink does, so the data waits (within retry_limit) for the fix.
package loki
