// Package elasticsearch is the `elasticsearch` sink: it ships enriched
// records to the bulk API of Elasticsearch, OpenSearch, or anything that
// speaks it, such as VictoriaLogs (url http://host:9428/insert/elasticsearch).
//
// # Keys
//
// The HTTP keys are httpc's: url (default http://127.0.0.1:9200; a path is a
// prefix to which /_bulk is appended; a query string is kept on every
// request, e.g. ?pipeline=NAME for an ingest pipeline or VictoriaLogs'
// ?_msg_field=message,log&_time_field=@timestamp), http_user, http_passwd,
// api_key, bearer_token, ca_file, client_cert_file, client_key_file,
// verify_certificate, compress (gzip by default), timeout. The sink's own:
//
//	key               default                   meaning
//	index             ctlive-$tenant-%Y.%m.%d   index of each record: a template over its fields, tag
//	                                            ($TAG, $TAG[n]) and time (strftime, UTC); the result is
//	                                            lower-cased, since Elasticsearch refuses upper-case
//	                                            index names (tenant AGM goes to ctlive-agm-2025.02.27);
//	                                            a missing field renders as "unknown"; when it names
//	                                            $tenant, a record whose tenant has a lower-case or
//	                                            non-ASCII letter is rejected (tenant_case): agm must
//	                                            not share ctlive-agm-… with AGM
//	time_key          @timestamp                document key of the event time (RFC 3339, UTC, 9
//	                                            fractional digits); a record key of that name is left out
//	id                on                        deterministic _id (see below); off lets the server pick
//	include_tag_key   off                       add the Fluent Bit tag to each document...
//	tag_key           _flb-key                  ...under this key (Fluent Bit's es output's names)
//	max_request_size  5M                        bulk body cap before compression, 64k to 1G; a flush
//	                                            larger than this goes out as several requests, one
//	                                            after the other
//	replace_dots      off                       '.' in keys, at every depth (payloads' too), becomes '_',
//	                                            as Fluent Bit's es output's Replace_Dots does: keys
//	                                            `app` and `app.kubernetes.io/name` (Kubernetes' standard
//	                                            labels) cannot both map in one Elasticsearch document
//
// Keys of Fluent Bit's es output that have no meaning here fail the start
// with a hint (logstash_format and its kin: use index; type: never sent;
// write_operation: always create; path and pipeline: put them in url).
// suppress_type_name, time_key_nanos, buffer_size and trace_* are accepted
// and ignored: this sink behaves as if the first two were on and reads
// answers as they stream. host, port, tls* and workers belong to Fluent Bit.
//
// # Requests
//
// Each record becomes `{"create":{"_index":"…","_id":"…"}}` and
// `{"@timestamp":"…",<the record's keys>,<the contract's fields>}`. No
// _type is sent (gone in Elasticsearch 8). With id on, _id is a hash of the
// tag, the event time and the line, so a request retried after its answer
// was lost answers 409 for what is already stored, which counts as
// delivered: no duplicates on Elasticsearch and OpenSearch. (VictoriaLogs
// ignores _id and never deduplicates; there, only the plugin's "send only
// what is not done yet" keeps retries from duplicating.)
//
// Answers: 2xx is read item by item (fast path when "errors":false): 2xx
// and 409 are delivered, 429 and 5xx are retried with the flush, any other
// status rejects that record for good with Elasticsearch's error type and
// reason. A whole request answered 408/429/5xx, 401/403/407 (credentials)
// or 404 (wrong path) is retried; 413 is split in halves and sent again,
// down to a single document, which is then rejected; any other 4xx rejects
// the request's records and logs the server's reason once, except
// VictoriaLogs' 400 "cannot decode log message #N", which stored the
// documents before N: those are delivered, N is rejected and the rest are
// sent again. A 2xx answer is read as it streams, within bounds: 64 KiB
// plus 4 KiB per document, 64 levels of nesting, no more items than
// documents (response.go). One that breaks them or cannot be read is
// retried whole (with id on, what the server stored answers 409); one that
// lists fewer items than documents is retried for the documents it does
// not account for. A redirect is never followed: it fails the flush for
// good, naming the Location.
package elasticsearch
