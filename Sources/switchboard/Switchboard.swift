import ArgumentParser
import Glibc

@main
struct Switchboard: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Switchboard: a real-time chat backend.",
        subcommands: [GatewayCommand.self, AuthCommand.self, ProfileCommand.self, RequestCommand.self, ChatCommand.self, SocketIOConformanceCommand.self, SocketIOFanoutCommand.self, Check.self, Probe.self])

    static func main() async {
        limitMallocArenas()
        await main(nil)
    }

    /// glibc gives each thread that meets a busy heap an arena of its own, up to 8 per core,
    /// and memory freed in one is never reused by another: 15,000 sockets opened and closed
    /// ten times grew the RSS by 12 % (bench-sockets), with one arena per core it held
    /// within 1 %. MALLOC_ARENA_MAX, when set, still decides.
    private static func limitMallocArenas() {
        // mallopt is not in Swift's Glibc module: looked up by name (RTLD_DEFAULT is null).
        guard getenv("MALLOC_ARENA_MAX") == nil, let symbol = dlsym(nil, "mallopt") else { return }
        let mallopt = unsafeBitCast(symbol, to: (@convention(c) (Int32, Int32) -> Int32).self)
        let M_ARENA_MAX: Int32 = -8  // <malloc.h>
        _ = mallopt(M_ARENA_MAX, Int32(max(2, sysconf(Int32(_SC_NPROCESSORS_ONLN)))))
    }
}
