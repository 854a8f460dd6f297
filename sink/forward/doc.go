// Package forward is the wire side of the "forward" sink: it sends batches of
// already-encoded log entries to a Fluent Forward protocol server, normally
// Fluent Bit's own in_forward input, so enriched records re-enter the pipeline
// under a new tag.
//
// Every batch goes out as one PackedForward message (CompressedPackedForward
// when gzip is on):
//
//	[tag, bin(entries), {"chunk": id, "size": n, "compressed": "gzip"}]
//
// where entries is the caller's concatenation of msgpack entries, either
// [time, record] (Forward protocol v1) or [[time, metadata], record] (Fluent
// Bit's v2 event format). The package never decodes or re-encodes entries.
//
// Protocol facts this package relies on, read in Fluent Bit's source:
//
//   - in_forward (plugins/in_forward/fw_prot.c:fw_prot_process) takes the
//     entries of PackedForward as either msgpack str or bin and, when not
//     compressed, appends them to its chunk as they are (append_log), so v2
//     metadata and EventTime nanoseconds survive untouched. We use bin: the
//     payload is binary and bin is what out_forward uses for it
//     (plugins/out_forward/forward.c:flush_forward_mode).
//   - The options are only looked at when the root array has exactly 3
//     elements (fw_prot_process: contain_options); keys must be str
//     (get_chunk_event_type fails the whole message otherwise); "chunk" must be
//     a str (get_options_chunk), and the server answers {"ack": <that str>}
//     after it has ingested the data (send_ack).
//   - "size" is ignored by in_forward (Fluentd uses it as a hint); we send it
//     because the spec describes it and out_forward does (append_options).
//   - "compressed": "gzip" selects decompression (get_compression_type); the
//     gzip magic is also sniffed (sniff_magic). The decompressed size and the
//     whole message must each fit in in_forward's buffer_max_size, 6,144,000
//     bytes by default (plugins/in_forward/fw_config.c, fw_conn.c:fw_conn_event),
//     or the connection is dropped without an ack.
//   - The chunk id mirrors out_forward's format: base64 (standard, padded) of
//     16 bytes, 24 characters (forward_format.c:append_options). out_forward
//     derives the bytes from a SHA-512 of the payload; we use random bytes so
//     that two identical batches still get distinct ids.
//   - With shared_key set, in_forward sends HELO on accept
//     (fw_conn.c:fw_conn_add, fw_prot.c:send_helo) and then expects PING.
//     This package does not implement the handshake: it reports
//     ErrHandshakeRequired when it sees a HELO.
//   - in_forward closes every connection when it pauses under back-pressure
//     (plugins/in_forward/fw.c:in_fw_pause); idle pooled connections are
//     therefore checked before reuse and errors are retryable.
package forward
