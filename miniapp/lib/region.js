// What an administrator manages: /api/me's admin_region ({code, name, districts}; districts null for a
// province administrator), applied to the reference lists from /api/meta, so a district administrator
// is offered only their own districts (the server refuses the others anyway).
import { meta } from './meta.js'
import { session } from './session.js'

/** The districts among `all` that `user` manages: every one for a province administrator. */
export function managedDistricts(user = session.user, all = meta.districts) {
  const inside = user?.admin_region?.districts
  return Array.isArray(inside) ? all.filter((d) => inside.includes(d.value)) : all
}

/** Regions a batch can be funded from: every region for a province administrator, else their own
 *  region and the districts in it. */
export function managedRegions(user = session.user, regions = meta.regions, districts = meta.districts) {
  const region = user?.admin_region
  if (!region || !Array.isArray(region.districts)) return regions.length ? regions : districts
  const own = regions.find((r) => r.value === region.code) || { value: region.code, label: region.name }
  const inside = managedDistricts(user, districts).filter((d) => d.value !== region.code)
  return [own, ...inside]
}

/** A province administrator (their region has no district list): the one who may run the
 *  province-wide scheduled jobs by hand. */
export function isProvinceAdmin(user = session.user) {
  return Boolean(user?.roles?.includes('admin')) && !Array.isArray(user?.admin_region?.districts)
}
