import { useOnVisible, type ScrollList } from '../lib/useScrollList';
import { ErrorBox, Loading } from './ui';

/**
 * The end of a scroll-paged table: "no rows", loading, the error with a retry, and the sentinel that loads the
 * next page when it scrolls into view (with a button for keyboards and slow observers). `noun` is plural.
 */
export function ScrollListFooter<T>({ list, noun }: { list: ScrollList<T>; noun: string }) {
  const more = !list.done && !list.loading && !list.error;
  const sentinel = useOnVisible(list.loadMore, more);
  return (
    <>
      {list.items.length === 0 && list.done && !list.error && <p className="empty">No {noun} match.</p>}
      {list.loading && <Loading label={list.items.length ? `Loading more ${noun}…` : `Loading ${noun}…`} />}
      <ErrorBox error={list.error} onRetry={list.loadMore} />
      {more && (
        <div ref={sentinel} className="more">
          <button type="button" onClick={list.loadMore}>
            Load more
          </button>
        </div>
      )}
    </>
  );
}
