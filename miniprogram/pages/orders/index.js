// 我的诉求: the resident's orders, newest first (GET /api/v1/orders); pull down to refresh. One they
// follow as a co-reporter (附议, or merged in: `co_reporter`) is marked （附议）.
const api = require('../../utils/api')
const ui = require('../../utils/ui')
const { deadlineText } = require('../../utils/deadline')

Component({
  data: { large: false, loading: true, error: '', orders: [] },
  methods: {
    onLoad() {
      this.setData({ large: ui.isLarge() })
      return this.load()
    },
    onShow() {
      this.setData({ large: ui.isLarge() })
      if (this.loaded) return this.load()
      return null
    },
    onPullDownRefresh() {
      return this.load().then(() => wx.stopPullDownRefresh())
    },
    async load() {
      this.setData({ loading: !this.data.orders.length, error: '' })
      try {
        const answer = await api.get('/api/v1/orders?limit=50')
        this.loaded = true
        const orders = answer.orders.map((o) => ({
          number: o.number, state_label: o.state_label, text: o.text, joined: o.co_reporter,
          created: '提交于 ' + ui.when(o.created_at), due: deadlineText(o),
        }))
        this.setData({ loading: false, orders })
      } catch (err) {
        this.setData({ loading: false, error: ui.errorText(err) })
      }
    },
    open(e) {
      wx.navigateTo({ url: '/pages/orders/detail?number=' + e.currentTarget.dataset.number })
    },
  },
})
