import { describe, expect, it } from 'vitest'
import { isProvinceAdmin, managedDistricts, managedRegions } from '../lib/region.js'

const districts = [{ value: '370811', label: '任城区' }, { value: '370881', label: '曲阜市' }, { value: '370112', label: '历城区' }]
const regions = [{ value: '370000', label: '山东省' }, { value: '370800', label: '济宁市' }, ...districts]
const province = { admin_region: { code: '370000', name: '山东省', districts: null } }
const jining = { admin_region: { code: '370800', name: '济宁市', districts: ['370811', '370881'] } }
const rencheng = { admin_region: { code: '370811', name: '任城区', districts: ['370811'] } }

describe('managedDistricts', () => {
  it('offers a province administrator every district', () => {
    expect(managedDistricts(province, districts)).toEqual(districts)
  })
  it('offers a city or district administrator only what lies inside their region', () => {
    expect(managedDistricts(jining, districts).map((d) => d.label)).toEqual(['任城区', '曲阜市'])
    expect(managedDistricts(rencheng, districts).map((d) => d.label)).toEqual(['任城区'])
  })
  it('leaves the list alone for someone who is not an administrator', () => {
    expect(managedDistricts({ roles: ['entrepreneur'] }, districts)).toEqual(districts)
  })
})

describe('managedRegions', () => {
  it('lets the province fund from any region', () => {
    expect(managedRegions(province, regions, districts)).toEqual(regions)
  })
  it('lets a city fund from the city or one of its districts', () => {
    expect(managedRegions(jining, regions, districts).map((r) => r.label)).toEqual(['济宁市', '任城区', '曲阜市'])
  })
  it('lets a district fund from itself only', () => {
    expect(managedRegions(rencheng, regions, districts).map((r) => r.label)).toEqual(['任城区'])
  })
})

describe('isProvinceAdmin', () => {
  it('is an administrator whose region has no district list', () => {
    expect(isProvinceAdmin({ roles: ['admin'], ...province })).toBe(true)
    expect(isProvinceAdmin({ roles: ['admin'], ...rencheng })).toBe(false)
    expect(isProvinceAdmin({ roles: ['organiser'], admin_region: null })).toBe(false)
  })
})
