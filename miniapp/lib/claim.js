// Claiming a first-come voucher. One idempotency key per tap, kept while the answer is unknown
// (no network, 5xx) so that tapping again retries the same claim and can never take two.
import { ref } from 'vue'
import { claimVoucher } from './api/vouchers.js'
import { newNonce } from './nonce.js'
import { navigateTo } from './router.js'
import { showToast } from './toast.js'

const pendingKeys = new Map() // batch id → key of a claim whose answer never arrived

/** Resolves the voucher (also when the server had already issued it for this key); throws ApiError. */
export async function claimBatch(batchId) {
  const key = pendingKeys.get(batchId) || newNonce()
  pendingKeys.set(batchId, key)
  try {
    const voucher = await claimVoucher(batchId, key)
    pendingKeys.delete(batchId)
    return voucher
  } catch (error) {
    if (!error?.transient) pendingKeys.delete(batchId) // a definite answer: the next tap is a new claim
    throw error
  }
}

/**
 * The claim button's behaviour for a page: one claim at a time, `profile_incomplete` opens a dialog
 * that leads to 完善主体信息, other refusals show the server's message and call onRefused (so the
 * page can re-read the batch and show why).
 */
export function useClaim({ onClaimed, onRefused } = {}) {
  const claimingId = ref(null)
  const profileProblem = ref('') // the server's message when the profile must be completed first

  async function claim(batch) {
    if (claimingId.value != null) return null
    claimingId.value = batch.id
    try {
      const voucher = await claimBatch(batch.id)
      onClaimed?.(voucher, batch)
      return voucher
    } catch (error) {
      if (error?.code === 'profile_incomplete') {
        profileProblem.value = error.message
      } else if (error?.status === 0) {
        showToast('网络不可用，请联网后再点一次领取（不会重复领取）')
      } else {
        showToast(error?.message || '领取失败，请稍后重试')
        if (!error?.transient) onRefused?.(error, batch)
      }
      return null
    } finally {
      claimingId.value = null
    }
  }

  function goCompleteProfile() {
    profileProblem.value = ''
    navigateTo('profile-edit')
  }

  return { claim, claimingId, profileProblem, goCompleteProfile }
}
