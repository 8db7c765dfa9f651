import AMQP
import BSON
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Mongo
import Passwords
import Redis

// Swift clients against the bare C libraries, the same operations side by side in
// one run: each round runs C then Swift (then Swift then C in the next round), and
// the table shows the median of the rounds and the ratio Swift / C.
// Usage: SwitchboardBench [rounds]   (servers from BENCH_MONGO_URI, BENCH_REDIS_PORT, BENCH_AMQP_PORT;
// BENCH_MONGO_RESET restarts MongoDB before each insert measurement)

let env = ProcessInfo.processInfo.environment

// `SwitchboardBench argon2 [n]`: what one Argon2id verify costs (the share of a login).
if CommandLine.arguments.dropFirst().first == "argon2" {
    let n = CommandLine.arguments.count > 2 ? Int(CommandLine.arguments[2]) ?? 50 : 50
    let hasher = PasswordHasher()
    let stored = try await hasher.hash("correct horse 1")
    _ = try await hasher.verify("correct horse 1", against: stored)  // warm up
    var serial: [Double] = []
    for _ in 0..<n {
        let start = ContinuousClock.now
        _ = try await hasher.verify("correct horse 1", against: stored)
        serial.append((ContinuousClock.now - start) / .milliseconds(1))
    }
    serial.sort()
    let cores = ProcessInfo.processInfo.activeProcessorCount
    let start = ContinuousClock.now
    try await withThrowingTaskGroup(of: Void.self) { group in
        for _ in 0..<cores { group.addTask { for _ in 0..<n { _ = try await hasher.verify("correct horse 1", against: stored) } } }
        try await group.waitForAll()
    }
    let parallel = Double(n * cores) / ((ContinuousClock.now - start) / .seconds(1))
    print(String(format: "argon2id verify (m=19 MiB, t=2, p=1): median %.1f ms, p99 %.1f ms serial; %.0f verifies/s on %d cores",
                 serial[serial.count / 2], serial[min(serial.count - 1, serial.count * 99 / 100)], parallel, cores))
    exit(0)
}
// `SwitchboardBench parsers [rounds]`: the parsers of client input on inputs built to be slow.
if CommandLine.arguments.dropFirst().first == "parsers" {
    let rounds = CommandLine.arguments.count > 2 ? Int(CommandLine.arguments[2]) ?? 5 : 5
    exit(ParserBench.run(rounds: rounds) ? 0 : 1)
}
let mongoURI = env["BENCH_MONGO_URI"] ?? "mongodb://127.0.0.1:27217/"
let redisPort = Int(env["BENCH_REDIS_PORT"] ?? "") ?? 6579
let amqpPort = Int(env["BENCH_AMQP_PORT"] ?? "") ?? 5872
let rounds = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1]) ?? 3 : 3

struct BenchUser: Codable, Sendable {
    var _id: ObjectId
    var email: String
    var name: String
    var age: Int
    var createdAt: Date
}

struct Row {
    let name: String
    let n: Int
    var c: [Double] = []
    var swift: [Double] = []
}

func measure(_ n: Int, _ body: () async throws -> Void) async rethrows -> Double {
    let start = ContinuousClock.now
    try await body()
    let seconds = (ContinuousClock.now - start) / .seconds(1)
    return Double(n) / seconds
}

func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }

/// SecantusDB (the test server) slows with every write it has taken since it started, so each
/// insert measurement starts on a fresh server: `BENCH_MONGO_RESET` is a shell command that
/// restarts it (scripts/bench sets it). Then wait until the Swift client reaches it again.
func resetMongo() async throws {
    guard let command = env["BENCH_MONGO_RESET"] else { return }
    var pid = pid_t()
    let argv: [String] = ["/bin/sh", "-c", command]
    var args: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
    defer { args.forEach { free($0) } }
    guard posix_spawn(&pid, "/bin/sh", nil, nil, &args, environ) == 0 else { fatalError("cannot run BENCH_MONGO_RESET") }
    var status: Int32 = 0
    waitpid(pid, &status, 0)
    precondition(status == 0, "BENCH_MONGO_RESET failed")
    for _ in 0..<100 {
        if (try? await mongo.ping()) != nil { return }
        try await Task.sleep(for: .milliseconds(100))
    }
    fatalError("MongoDB did not come back after BENCH_MONGO_RESET")
}

let mongo = try MongoClient(uri: mongoURI, threads: 4)
let database = "bench_\(UInt32.random(in: 0...UInt32.max))"
let redis = RedisClient(port: redisPort, connections: 4)
let amqp = AMQPConfiguration(port: amqpPort, heartbeatSeconds: 0)
let queue = "bench.\(UInt32.random(in: 0...UInt32.max))"
let topology = Topology(queues: [Topology.Queue(queue)])
let admin = AMQPAdmin(config: amqp)
try await admin.declare(topology)
let publisher = Publisher(config: amqp, topology: topology, maxInFlight: 1000)
try await redis.set("bench:key", String(repeating: "v", count: 100))

let mongoN = 2000, redisN = 20000, pipelinedN = 20000, waitEachN = 1000
var rows = [
    Row(name: "AMQP publish, confirms pipelined (≤1000 in flight)", n: pipelinedN),
    Row(name: "AMQP publish, waiting for each confirm", n: waitEachN),
    Row(name: "Mongo insert one document", n: mongoN),
    Row(name: "Mongo find one by _id", n: mongoN),
    Row(name: "Redis GET (sequential)", n: redisN),
]

for round in 0..<rounds {
    let cFirst = round % 2 == 0
    for order in (cFirst ? [true, false] : [false, true]) {
        if order {
            // C
            rows[0].c.append(await measure(pipelinedN) { _ = CBaseline.amqpConfirmedPublishes(port: amqpPort, queue: queue, n: pipelinedN, window: 1000) })
            try await admin.purge(queue)
            rows[1].c.append(await measure(waitEachN) { _ = CBaseline.amqpConfirmedPublishes(port: amqpPort, queue: queue, n: waitEachN, window: 1) })
            try await admin.purge(queue)
            // A fresh collection per round and side: the test server slows as a collection grows.
            var ids = [[UInt8]]()
            let collection = "c_users_\(round)"
            try await resetMongo()
            rows[2].c.append(await measure(mongoN) { ids = CBaseline.mongoInsert(uri: mongoURI, database: database, collection: collection, n: mongoN, offset: round * mongoN) })
            rows[3].c.append(await measure(mongoN) { precondition(CBaseline.mongoFind(uri: mongoURI, database: database, collection: collection, ids: ids) == mongoN) })
            try await mongo.database(database).collection(collection, of: BenchUser.self).drop()
            rows[4].c.append(await measure(redisN) { precondition(CBaseline.redisGets(port: redisPort, key: "bench:key", n: redisN) == redisN) })
        } else {
            // Swift
            let message = AMQPMessage(exchange: "", routingKey: queue, body: Array("{\"type\":\"bench\",\"data\":{\"n\":12345}}".utf8))
            rows[0].swift.append(try await measure(pipelinedN) {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for _ in 0..<pipelinedN { group.addTask { try await publisher.publish(message) } }
                    try await group.waitForAll()
                }
            })
            try await admin.purge(queue)
            rows[1].swift.append(try await measure(waitEachN) { for _ in 0..<waitEachN { try await publisher.publish(message) } })
            try await admin.purge(queue)
            var ids = [ObjectId]()
            let users = mongo.database(database).collection("users_\(round)", of: BenchUser.self)
            try await resetMongo()
            rows[2].swift.append(try await measure(mongoN) {
                for i in (round * mongoN)..<((round + 1) * mongoN) {
                    let user = BenchUser(_id: ObjectId(), email: "user\(i)@example.com", name: "User \(i)", age: i % 90,
                                         createdAt: Date(timeIntervalSince1970: 1_700_000_000))
                    try await users.insert(user)
                    ids.append(user._id)
                }
            })
            rows[3].swift.append(try await measure(mongoN) {
                for id in ids {
                    let found = try await users.findOne(.eq("_id", id))
                    precondition(found != nil)
                }
            })
            try await users.drop()
            rows[4].swift.append(try await measure(redisN) {
                for _ in 0..<redisN {
                    let value = try await redis.get("bench:key")
                    precondition(value != nil)
                }
            })
        }
    }
}

await publisher.close()
try await admin.deleteQueue(queue)
try await mongo.database(database).drop()
try await mongo.close()
try await redis.close()

func fmt(_ v: Double) -> String { String(format: "%10.0f", v) }
print("Switchboard clients vs bare C libraries — median of \(rounds) rounds, ops/s (release build, \(ProcessInfo.processInfo.activeProcessorCount) cores)")
print("| operation | n | C ops/s | Swift ops/s | Swift / C |")
print("|---|---:|---:|---:|---:|")
for row in rows {
    let c = median(row.c), s = median(row.swift)
    print("| \(row.name) | \(row.n) | \(fmt(c)) | \(fmt(s)) | \(String(format: "%.2f", s / c)) |")
}
print("\nEvery round (ops/s), C / Swift:")
for row in rows {
    let pairs = zip(row.c, row.swift).map { "\(Int($0))/\(Int($1))" }.joined(separator: "  ")
    print("  \(row.name): \(pairs)")
}
