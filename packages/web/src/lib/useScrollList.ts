import { useCallback, useEffect, useRef, useState } from 'react';

export interface ScrollPage<T> {
  items: T[];
  scrollId: string | undefined;
}

export interface ScrollList<T> {
  items: T[];
  loading: boolean;
  done: boolean;
  error: unknown;
  loadMore: () => void;
  reload: () => void;
  /** Changes loaded rows in place (after an action) without reloading. */
  update: (fn: (items: T[]) => T[]) => void;
}

/**
 * Server-side scroll paging (clearml-api.md §4.3): the first call sends `scroll_id: null`, each next
 * call the id the server returned. A different id coming back means the server forgot the scroll
 * (it expired), so the list starts over.
 */
export function useScrollList<T>(
  fetchPage: (scrollId: string | null, signal: AbortSignal) => Promise<ScrollPage<T>>,
  pageSize: number,
  key: string,
): ScrollList<T> {
  const [items, setItems] = useState<T[]>([]);
  const [loading, setLoading] = useState(false);
  const [done, setDone] = useState(false);
  const [error, setError] = useState<unknown>();
  const [generation, setGeneration] = useState(0);
  const state = useRef<{ scrollId: string | null; busy: boolean; done: boolean; controller?: AbortController }>({ scrollId: null, busy: false, done: false });
  const fetchRef = useRef(fetchPage);
  fetchRef.current = fetchPage;

  const load = useCallback(
    async (reset: boolean) => {
      const s = state.current;
      if (reset) {
        s.controller?.abort();
        s.scrollId = null;
        s.done = false;
        s.busy = false;
      }
      if (s.busy || s.done) return;
      s.busy = true;
      const controller = new AbortController();
      s.controller = controller;
      setLoading(true);
      setError(undefined);
      try {
        const sent = s.scrollId;
        const page = await fetchRef.current(sent, controller.signal);
        if (controller.signal.aborted) return;
        if (sent !== null && page.scrollId && page.scrollId !== sent) {
          // The scroll expired on the server: start over so rows are neither skipped nor repeated.
          s.busy = false;
          s.scrollId = null;
          setItems([]);
          await load(false);
          return;
        }
        s.scrollId = page.scrollId ?? null;
        s.done = page.items.length < pageSize || !page.scrollId;
        setDone(s.done);
        setItems((current) => (reset ? page.items : [...current, ...page.items]));
      } catch (err) {
        if (controller.signal.aborted) return;
        setError(err);
      } finally {
        if (!controller.signal.aborted) {
          s.busy = false;
          setLoading(false);
        }
      }
    },
    [pageSize],
  );

  useEffect(() => {
    setItems([]);
    setDone(false);
    void load(true);
    return () => state.current.controller?.abort();
  }, [key, generation, load]);

  return {
    items,
    loading,
    done,
    error,
    loadMore: useCallback(() => void load(false), [load]),
    reload: useCallback(() => setGeneration((g) => g + 1), []),
    update: useCallback((fn: (items: T[]) => T[]) => setItems(fn), []),
  };
}

/** Calls `onVisible` when the element scrolls into view (the bottom of a list: time for the next page). */
export function useOnVisible(onVisible: () => void, enabled: boolean) {
  const ref = useRef<HTMLElement | null>(null);
  const callback = useRef(onVisible);
  callback.current = onVisible;
  const setRef = useCallback((el: HTMLElement | null) => {
    ref.current = el;
  }, []);
  useEffect(() => {
    const el = ref.current;
    if (!el || !enabled) return;
    const observer = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) callback.current();
    }, { rootMargin: '400px' });
    observer.observe(el);
    return () => observer.disconnect();
  });
  return setRef;
}
