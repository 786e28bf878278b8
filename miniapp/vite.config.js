import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'
import { VitePWA } from 'vite-plugin-pwa'

// The built shell lands in ../static, which Flask serves at the site root:
// /index.html, /sw.js, /manifest.webmanifest, /assets/*, /icons/*.
export default defineConfig({
  root: import.meta.dirname,
  base: '/',
  plugins: [
    vue(),
    VitePWA({
      strategies: 'injectManifest',
      srcDir: 'sw',
      filename: 'sw.js',
      registerType: 'autoUpdate',
      injectRegister: false, // registered from lib/sw-bridge.js
      manifestFilename: 'manifest.webmanifest',
      manifest: {
        name: '创业齐鲁',
        short_name: '创业齐鲁',
        description: '创业券申领使用、喵小创活动报名、创业街区与创贷之家扫码签到',
        lang: 'zh-CN',
        start_url: '/',
        scope: '/',
        display: 'standalone',
        background_color: '#ededed',
        theme_color: '#07c160',
        icons: [
          { src: '/icons/icon-192.png', sizes: '192x192', type: 'image/png' },
          { src: '/icons/icon-512.png', sizes: '512x512', type: 'image/png' },
          { src: '/icons/icon.svg', sizes: 'any', type: 'image/svg+xml', purpose: 'any' },
        ],
      },
      injectManifest: {
        // manifest.webmanifest and the manifest's icons are added by the plugin itself.
        globPatterns: ['**/*.{html,js,css}'],
        // The dashboard's chart library (~180 KB gzip) is for administrators only: not precached on every
        // phone, but kept once fetched (sw/sw.js), so the charts open offline after a first visit.
        globIgnores: ['sw.js', 'assets/echarts-*.js'],
      },
      devOptions: { enabled: false },
    }),
  ],
  build: {
    outDir: '../static',
    emptyOutDir: true,
    target: 'es2020',
    rolldownOptions: {
      output: {
        // Vue and the other libraries the shell needs in one long-cached chunk; app code and pages
        // stay separate. The curves (code verification) and the QR encoder are only for the pages
        // that use them: their own chunks, loaded with those pages, never at first load.
        codeSplitting: {
          groups: [
            // Transpiler helpers (class fields at es2020) in a tiny chunk of their own: otherwise the
            // first group that uses them takes them, and every other user must load that group.
            { name: 'helpers', test: /@oxc-project\+runtime/, priority: 3 },
            { name: 'noble', test: /[\\/]node_modules[\\/]@noble[\\/]/, priority: 2 },
            { name: 'qr', test: /[\\/]node_modules[\\/]uqr[\\/]/, priority: 2 },
            { name: 'jsqr', test: /[\\/]node_modules[\\/]jsqr[\\/]/, priority: 2 }, // camera decoding, on demand
            // ECharts (and its zrender, tslib) for the dashboard's charts only, imported dynamically there
            { name: 'echarts', test: /[\\/]node_modules[\\/](echarts|zrender|tslib)[\\/]/, priority: 2 },
            { name: 'vendor', test: /[\\/]node_modules[\\/]/, priority: 1 },
          ],
        },
      },
    },
  },
  server: {
    proxy: {
      '/api': 'http://127.0.0.1:5000',
    },
  },
})
