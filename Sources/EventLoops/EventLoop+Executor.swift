/// The loop as a task executor: a task started with the loop as its executor preference
/// (`Task(executorPreference: loop)`, or a child task of one) runs its nonisolated async code on
/// the loop's thread, and a continuation the loop resumes (a Redis reply) puts the task back on
/// the loop's job list of the same turn, never on Swift's global pool.
extension EventLoop: TaskExecutor {
    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        if inEventLoop {
            jobs.append(job)
            return
        }
        post { $0.jobs.append(job) }
    }
}
