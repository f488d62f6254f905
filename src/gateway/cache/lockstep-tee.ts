/**
 * Splits a body into the client's copy and the edge cache's copy without
 * letting either run far ahead of the other. `ReadableStream.tee()` reads
 * the source as fast as the faster branch and queues everything for the
 * slower one: with a fast `cache.put` and a slow client, a 500 MB file
 * would end up in memory (128 MB limit). Here the source is read only while
 * neither branch has more than `maxLag` chunks (blocks, ≤ 2 MiB each)
 * waiting, so memory stays at a few blocks and the slower side sets the pace.
 *
 * The client's branch is the one that matters: when it is cancelled (client
 * gone), the source is cancelled and the cache's branch errors, so
 * `cache.put` rejects and nothing partial is stored. When the cache's branch
 * is cancelled or fails, the client's branch continues alone. A source error
 * errors both.
 */
export function lockstepTee(source: ReadableStream<Uint8Array>, maxLag = 4): [client: ReadableStream<Uint8Array>, cache: ReadableStream<Uint8Array>] {
  const reader = source.getReader();
  const queues: [Uint8Array[], Uint8Array[]] = [[], []];
  const detached = [false, false];
  let ended = false;
  let failure: { error: unknown } | undefined;
  let reading: Promise<void> | undefined;
  let wake: (() => void)[] = [];
  const notify = () => {
    const waiting = wake;
    wake = [];
    for (const w of waiting) w();
  };
  const cacheController: { current?: ReadableStreamDefaultController<Uint8Array> } = {};

  const readOne = (): Promise<void> =>
    (reading ??= reader
      .read()
      .then(
        ({ done, value }) => {
          if (done) ended = true;
          else for (const i of [0, 1] as const) if (!detached[i]) queues[i].push(value);
        },
        (error: unknown) => {
          failure = { error };
        },
      )
      .finally(() => {
        reading = undefined;
        notify();
      }));

  const branch = (i: 0 | 1): UnderlyingSource<Uint8Array> => ({
    start(controller) {
      if (i === 1) cacheController.current = controller;
    },
    async pull(controller) {
      for (;;) {
        if (detached[i]) return;
        const mine = queues[i];
        if (mine.length > 0) {
          controller.enqueue(mine.shift()!);
          notify();
          return;
        }
        if (failure) return controller.error(failure.error);
        if (ended) return controller.close();
        const other = i === 0 ? 1 : 0;
        // The other side is too far behind: wait for it to take something (or go away).
        if (!detached[other] && queues[other].length >= maxLag) {
          await new Promise<void>((resolve) => wake.push(resolve));
          continue;
        }
        await readOne();
      }
    },
    async cancel(reason) {
      detached[i] = true;
      queues[i].length = 0;
      notify();
      if (i === 0) {
        // The client went away: the cache must not keep a partial copy.
        try {
          cacheController.current?.error(new Error("client went away before the end of the body"));
        } catch {
          // already closed or errored
        }
        detached[1] = true;
        queues[1].length = 0;
        await reader.cancel(reason);
      } else if (detached[0]) {
        await reader.cancel(reason);
      }
    },
  });

  const strategy = { highWaterMark: 0 };
  return [new ReadableStream(branch(0), strategy), new ReadableStream(branch(1), strategy)];
}
