import Dispatch

/// Runs `work` on inputs on one background thread while the submitting thread goes on, and hands
/// the outputs back in submission order.
///
/// A fold uses it to decode the next batch of payloads while it applies the last one: on two
/// cores the parsing and the folding overlap. At most `depth` inputs are in flight, so memory stays
/// bounded and the submitter waits when the worker falls behind. One thread submits and collects.
public final class OrderedWorker<Input: Sendable, Output: Sendable> {
    /// One input's output, written once by the worker before `done` is signalled and read by the
    /// submitter after waiting on it.
    private final class Slot: @unchecked Sendable {
        var output: Output?
        let done = DispatchSemaphore(value: 0)
    }

    private let queue = DispatchQueue(label: "folio.ordered-worker")
    private let work: @Sendable (Input) -> Output
    private let depth: Int
    private var pending: [Slot] = []

    public init(depth: Int = 3, work: @escaping @Sendable (Input) -> Output) {
        self.depth = max(1, depth)
        self.work = work
    }

    /// Starts `input`; when `depth` outputs are already pending, first waits for the oldest and returns it.
    public func submit(_ input: Input) -> Output? {
        let ready = pending.count >= depth ? next() : nil
        let slot = Slot()
        pending.append(slot)
        let work = self.work
        queue.async {
            slot.output = work(input)
            slot.done.signal()
        }
        return ready
    }

    /// Waits for the oldest pending output; `nil` when nothing is pending.
    public func next() -> Output? {
        guard !pending.isEmpty else { return nil }
        let slot = pending.removeFirst()
        slot.done.wait()
        return slot.output
    }
}
