"""创业券: batches, claiming and applications, providers, redemption by scan, reversal, expiry and
settlement. Money is a ledger of integer fen; a voucher's balance is the sum of its entries."""
