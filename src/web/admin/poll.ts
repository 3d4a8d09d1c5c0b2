/**
 * Runs `refresh` now and again `everyMs` after each run settles, while the page is visible:
 * a hidden tab asks nothing, and shows fresh numbers as soon as it is shown again. `refresh`
 * answers false to stop (nothing will change, e.g. a server without Postgres).
 * @example const poller = poll(() => load(), 3_000); // … poller.dispose() when the view goes
 */
export function poll(
  refresh: () => Promise<boolean>,
  everyMs: number,
): { dispose(): void; now(): void } {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let disposed = false;
  let running = false;
  let stopped = false;

  async function run(): Promise<void> {
    clearTimeout(timer);
    timer = undefined;
    if (disposed || running || stopped) return;
    running = true;
    try {
      stopped = !(await refresh());
    } finally {
      running = false;
      if (!stopped && !disposed && document.visibilityState === "visible")
        timer = setTimeout(() => void run(), everyMs);
    }
  }

  const onVisibility = () => {
    if (document.visibilityState === "visible") void run();
    else {
      clearTimeout(timer);
      timer = undefined;
    }
  };
  document.addEventListener("visibilitychange", onVisibility);
  void run();
  return {
    dispose() {
      disposed = true;
      clearTimeout(timer);
      document.removeEventListener("visibilitychange", onVisibility);
    },
    now() {
      stopped = false;
      void run();
    },
  };
}
