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

/// `items.map(transform)`, computed in chunks on every core; the results are in `items`' order.
///
/// For CPU-bound work on many items (encoding rows and client states); `transform` must be safe
/// to call from several threads at once.
public func parallelMap<T: Sendable, U: Sendable>(_ items: [T], chunk: Int = 1_024, _ transform: @Sendable (T) -> U) -> [U] {
    let chunks = (items.count + chunk - 1) / chunk
    guard chunks > 1 else { return items.map(transform) }
    var results: [[U]] = Array(repeating: [], count: chunks)
    results.withUnsafeMutableBufferPointer { buffer in
        let out = ChunkResults(buffer: buffer)
        DispatchQueue.concurrentPerform(iterations: chunks) { index in
            out.buffer[index] = items[index * chunk..<min(items.count, (index + 1) * chunk)].map(transform)
        }
    }
    return results.flatMap { $0 }
}

/// Where each chunk of `parallelMap` puts its results: chunk `i` writes element `i` only, and
/// the buffer is read after `concurrentPerform` returns.
private struct ChunkResults<U>: @unchecked Sendable {
    let buffer: UnsafeMutableBufferPointer<[U]>
}
