// 我的: 大字模式 (every page reads it), the privacy guide again, WeChat's customer service, and for
// develop and trial builds the server to talk to.
const ui = require('../../utils/ui')
const config = require('../../config')

Component({
  data: { large: false, showPrivacy: false, canChooseServer: false, apiBase: '' },
  methods: {
    onLoad() {
      this.setData({ large: ui.isLarge(), canChooseServer: config.envVersion() !== 'release', apiBase: config.apiBase() })
    },
    onShow() { this.setData({ large: ui.isLarge() }) },
    toggleLarge(e) {
      ui.setLarge(e.detail.value)
      this.setData({ large: ui.isLarge() })
    },
    showGuide() { this.setData({ showPrivacy: true }) },
    closeGuide() { this.setData({ showPrivacy: false }) },
    onApiBase(e) { this.setData({ apiBase: e.detail.value }) },
    saveApiBase() {
      wx.setStorageSync('apiBase', this.data.apiBase.trim())
      wx.showToast({ title: '已保存', icon: 'success' })
    },
  },
})
