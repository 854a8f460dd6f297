package corpus

import "time"

// Exceptions are unhandled Node errors. Node prints the error's first line
// and its stack frames (and, for errors with extra properties, those
// properties in braces) in one write; Fluent Bit's multiline filter joins
// them back into one record.

type excKind int

const (
	excNotFound  excKind = iota // the guide's case: getTranscriptByChatID finds no contact
	excTypeRaw                  // a TypeError printed by Node itself, without a CTLive token
	excSocket                   // a TypeError caught and logged by a socket.io handler
	excMongoDup                 // a transcript saved twice
	excUnhandled                // an unhandled promise rejection (old Node warning), then Node's advice
	excRedis                    // ioredis' unhandled error event
	excCTI                      // the CTI webhook answers 503 (axios)
	excJWT                      // an agent's JWT is rejected
)

var (
	excKinds   = []excKind{excNotFound, excTypeRaw, excSocket, excMongoDup, excUnhandled, excRedis, excCTI, excJWT}
	excWeights = []int{2, 2, 2, 1, 1, 1, 2, 1}
)

// exception writes one exception record; ref, when set, is the contact it
// concerns (excNotFound, excMongoDup).
func (s *sim) exception(t int64, k excKind, ref contactRef) {
	tn := s.pickTenant()
	switch k {
	case excNotFound:
		if ref.id == "" {
			ref = newContactRef("CHAT", tn.name, s.r.uuid())
		}
		s.emit(t, CaseException, mk(tk("getTranscriptByChatID", tenantTok(ref.tenant)), "Error: contact [%s] not found in database", ref).exc("Error",
			"    at getTranscriptByChatID (/app/src/mongo/transcripts.js:57:13)",
			"    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)",
			"    at async /app/src/routes/livechat.js:142:22"))
	case excTypeRaw:
		s.emit(t, CaseException, mk(nil, "TypeError: Cannot read properties of undefined (reading 'sessionID')").exc("TypeError",
			"    at validateSession (/app/src/auth/session.js:44:31)",
			"    at Socket.<anonymous> (/app/src/socket/agent.js:61:9)",
			"    at Socket.emit (node:events:517:28)",
			"    at Socket.emitUntyped (/app/node_modules/socket.io/dist/typed-events.js:69:22)",
			"    at /app/node_modules/socket.io/dist/socket.js:703:39",
			"    at process.processTicksAndRejections (node:internal/process/task_queues:77:11)"))
	case excSocket:
		s.emit(t, CaseException, mk(tk("socketIO", "message"), "TypeError: Cannot read properties of null (reading 'agent')").exc("TypeError",
			"    at routeToAgent (/app/src/socket/chat.js:148:37)",
			"    at Socket.<anonymous> (/app/src/socket/chat.js:96:13)",
			"    at Socket.emit (node:events:517:28)",
			"    at process.processTicksAndRejections (node:internal/process/task_queues:77:11)"))
	case excMongoDup:
		if ref.id == "" {
			if len(s.ended) > 0 {
				ref = s.ended[s.r.intn(len(s.ended))]
			} else {
				ref = newContactRef("CHAT", tn.name, s.r.uuid())
			}
		}
		s.emit(t, CaseException, mk(tk("saveTranscript", tenantTok(ref.tenant)),
			`MongoServerError: E11000 duplicate key error collection: ctlive.transcripts index: _id_ dup key: { _id: "%s" }`, ref).exc("MongoServerError",
			"    at InsertOneOperation.execute (/app/node_modules/mongodb/lib/operations/insert.js:51:19)",
			"    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)",
			"    at async executeOperationAsync (/app/node_modules/mongodb/lib/operations/execute_operation.js:106:16)",
			"    at async saveTranscript (/app/src/mongo/transcripts.js:31:5)",
			"    at async endContact (/app/src/socket/contact.js:211:9) {",
			"  index: 0,",
			"  code: 11000,",
			"  keyPattern: { _id: 1 },",
			"  keyValue: { _id: '"+ref.id+"' },",
			"  [Symbol(errorLabels)]: Set(0) {}",
			"}"))
	case excUnhandled:
		// Which word is the type is open: "node" stands first before a
		// colon, then UnhandledPromiseRejectionWarning, then MongoNetworkError.
		s.rejects++
		s.emit(t, CaseException, mk(nil, "(node:1) UnhandledPromiseRejectionWarning: MongoNetworkError: connection %d to 172.18.0.4:27017 closed", s.r.between(2, 9)).exc("",
			"    at Connection.onClose (/app/node_modules/mongodb/lib/cmap/connection.js:135:19)",
			"    at Socket.<anonymous> (/app/node_modules/mongodb/lib/cmap/connection.js:62:46)",
			"    at Socket.emit (node:events:517:28)",
			"    at TCP.<anonymous> (node:net:350:12)"))
		n := s.rejects
		s.at(t+s.r.between(100*us, 900*us), func(t int64) {
			s.emit(t, CaseException, mk(nil, "(node:1) UnhandledPromiseRejectionWarning: Unhandled promise rejection. "+
				"This error originated either by throwing inside of an async function without a catch block, "+
				"or by rejecting a promise which was not handled with .catch(). To terminate the node process on unhandled promise rejection, "+
				"use the CLI flag `--unhandled-rejections=strict` (see https://nodejs.org/api/cli.html#cli_unhandled_rejections_mode). (rejection id: %d)", n).exc(""))
		})
	case excRedis:
		// The type is open: "event" stands before the first colon.
		s.emit(t, CaseException, mk(tk("ioredis"), "Unhandled error event: Error: connect ECONNREFUSED 172.18.0.3:6379").exc("",
			"    at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1555:16)"))
	case excCTI:
		s.emit(t, CaseException, mk(tk("CT7PROTOCOL", tenantTok(tn.name)), "Error: Request failed with status code 503").exc("Error",
			"    at createError (/app/node_modules/axios/lib/core/createError.js:16:15)",
			"    at settle (/app/node_modules/axios/lib/core/settle.js:17:12)",
			"    at IncomingMessage.handleStreamEnd (/app/node_modules/axios/lib/adapters/http.js:322:11)",
			"    at IncomingMessage.emit (node:events:529:35)",
			"    at endReadableNT (node:internal/streams/readable:1400:12)",
			"    at process.processTicksAndRejections (node:internal/process/task_queues:82:21)"))
	case excJWT:
		frames := []string{
			"    at /app/node_modules/jsonwebtoken/verify.js:171:19",
			"    at getSecret (/app/node_modules/jsonwebtoken/verify.js:97:14)",
			"    at module.exports [as verify] (/app/node_modules/jsonwebtoken/verify.js:101:10)",
			"    at validateAgentToken (/app/src/auth/jwt.js:23:16)",
			"    at /app/src/routes/login.js:38:24",
		}
		if s.r.permille(500) {
			s.emit(t, CaseException, mk(tk("JWT", tenantTok(tn.name)), "JsonWebTokenError: invalid signature").exc("JsonWebTokenError", frames...))
			return
		}
		frames[0] = "    at /app/node_modules/jsonwebtoken/verify.js:190:21"
		frames[len(frames)-1] += " {"
		exp := time.Unix(0, t-s.r.between(60, 3600)*sec).UTC().Format("2006-01-02T15:04:05.000Z")
		frames = append(frames, "  expiredAt: "+exp, "}")
		s.emit(t, CaseException, mk(tk("JWT", tenantTok(tn.name)), "TokenExpiredError: jwt expired").exc("TokenExpiredError", frames...))
	}
}
