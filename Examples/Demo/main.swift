// The rocketmq-demo main job is delivered by the demo issue; until then it says so and exits non-zero.
import Foundation

FileHandle.standardError.write(Data("rocketmq-demo: not yet — the demo lands with the producer, consumer and mock broker.\n".utf8))
exit(2)
