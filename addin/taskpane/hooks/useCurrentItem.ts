/**
 * The Outlook item the pane is about. A pinned pane stays open while Outlook swaps the item, so the
 * item is re-read on every ItemChanged (with a version that changes each time, for keys), and the
 * continuity banner on it follows the status. Office.js is reached only through the host passed in.
 */
import { useEffect, useMemo, useState } from 'react';
import { bannerMessage, type ContinuityStatus } from '../../lib/status';
import { composeItem } from '../../office/draft';

export interface ItemHost {
  currentItem(): Office.Item | null;
  /** Subscribes to item switches; returns the unsubscribe. */
  onItemChanged(onChange: () => void): () => void;
  showBanner(item: Office.Item, message: string): Promise<unknown>;
  clearBanner(item: Office.Item): Promise<unknown>;
}

export interface CurrentItem {
  item: Office.Item | null;
  /** Bumped on every item switch. */
  version: number;
  /** The draft being written, when the item is a compose item. */
  compose: Office.MessageCompose | null;
}

export function useCurrentItem(host: ItemHost): CurrentItem {
  const [current, setCurrent] = useState(() => ({ item: host.currentItem(), version: 0 }));
  useEffect(() => host.onItemChanged(() => setCurrent((c) => ({ item: host.currentItem(), version: c.version + 1 }))), [host]);
  const compose = useMemo(() => composeItem(current.item), [current]);
  return { item: current.item, version: current.version, compose };
}

/** The item banner follows the status (a courtesy: the pane itself shows the state). */
export function useItemBanner(host: ItemHost, current: CurrentItem, status: ContinuityStatus | null): void {
  useEffect(() => {
    const item = current.item;
    if (!item || !status) return;
    const message = bannerMessage(status);
    const done = message ? host.showBanner(item, message) : host.clearBanner(item);
    done.catch(() => {
      // a banner is a courtesy: the pane itself shows the state
    });
  }, [host, current, status]);
}
