// The phone's position, for "附近优先". Never asks on its own: only when the user switches it on,
// or when permission was already granted.

/** True only if the browser says location access is already granted (no prompt). */
export async function geolocationGranted() {
  try {
    const status = await navigator.permissions?.query({ name: 'geolocation' })
    return status?.state === 'granted'
  } catch {
    return false
  }
}

/** Resolves {lat, lng}; rejects with the GeolocationPositionError (code 1 = denied). */
export function currentPosition({ timeout = 8000 } = {}) {
  return new Promise((resolve, reject) => {
    if (!navigator.geolocation) {
      reject(Object.assign(new Error('geolocation unavailable'), { code: 2 }))
      return
    }
    navigator.geolocation.getCurrentPosition(
      (pos) => resolve({ lat: pos.coords.latitude, lng: pos.coords.longitude }),
      reject,
      { enableHighAccuracy: false, timeout, maximumAge: 5 * 60_000 },
    )
  })
}
