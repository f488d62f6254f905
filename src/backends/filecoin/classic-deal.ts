import { filecoinWatch } from "../../cron/filecoin-watch";

/**
 * Puts a classic (f05 market) deal holding `root` under the Filecoin
 * watch: the one path for `POST /api/v1/filecoin/deals` and for deals found
 * in a migrated Storacha space (docs/filecoin.md "Operator API",
 * docs/storacha.md). Idempotent: the same remoteId and deal is one copy.
 * The default remote id is `deal-<dealId>/<root>`: one copy per deal and
 * root, since an aggregate deal holds many roots (copies stored as
 * `deal-<dealId>` before are renamed by FilecoinWatch migration 4).
 */
export function watchClassicDeal(
  env: Env,
  deal: { root: string; dealId: string; account: string | null; providerId?: string; pieceCid?: string; remoteId?: string },
): Promise<string> {
  return filecoinWatch(env).watch({
    kind: "deal",
    root: deal.root,
    backend: "filecoin-deal",
    // The watch's copy id is backend|remoteId|deal: an aggregate deal holding several roots needs one remoteId per root.
    remoteId: deal.remoteId ?? `deal-${deal.dealId}/${deal.root}`,
    dealId: deal.dealId,
    account: deal.account,
    ...(deal.providerId === undefined ? {} : { providerId: deal.providerId }),
    ...(deal.pieceCid === undefined ? {} : { pieceCid: deal.pieceCid }),
  });
}
