// One order: its text, place, deadlines, photos and the timeline residents may see, and exactly the
// buttons its allowed_actions give — 撤回 (cancel), 评价 (rate: 满意 / 基本满意 / 不满意 with a
// comment; 不满意 reopens it), 补充照片 (attach). The backend decides; the page only shows.
// Subscribe messages are one-time (one notice per 允许): the first 办结 notice used the one asked for
// at the report, so a 不满意 asks again in its tap, or the reopened order's next 办结 would not reach
// the resident. 补充照片 may be a resident's first photo (an order made in the chat): WeChat then asks
// for consent (onNeedPrivacyAuthorization, app.js) and this page shows the 隐私保护指引 for it.
const api = require('../../utils/api')
const ui = require('../../utils/ui')
const { deadlineText } = require('../../utils/deadline')

const SATISFACTIONS = [
  { value: 'satisfied', label: '满意' },
  { value: 'basically_satisfied', label: '基本满意' },
  { value: 'unsatisfied', label: '不满意' },
]

Component({
  data: {
    large: false, loading: true, error: '', notice: '', busy: false,
    order: null, photos: [], steps: [], deadline: '', can: {},
    satisfactions: SATISFACTIONS, rating: '', comment: '', askIds: [], showPrivacy: false,
  },
  methods: {
    onLoad(query) {
      this.number = query.number
      this.setData({ large: ui.isLarge() })
      return this.load()
    },
    retry() {
      return this.failed ? this.failed() : this.load()
    },
    async load() {
      this.failed = null
      this.setData({ loading: !this.data.order, error: '' })
      try {
        this.show(await api.get('/api/v1/orders/' + encodeURIComponent(this.number)))
        this.setData({ loading: false })
        await this.loadAskIds()
        await this.loadPhotos()
      } catch (err) {
        this.setData({ loading: false, error: ui.errorText(err) })
      }
    },
    show(order) {
      const can = {}
      order.allowed_actions.forEach((a) => { can[a] = true })
      const steps = order.events.map((e, i) => ({
        key: i,
        action: e.to_state_label && e.action_label !== e.to_state_label ? `${e.action_label}（${e.to_state_label}）` : e.action_label,
        when: ui.when(e.created_at), note: e.note || '',
      })).reverse()
      this.setData({ order, can, steps, deadline: deadlineText(order) })
    },
    async loadAskIds() {
      if (!this.data.can.rate || this.data.askIds.length) return
      try {
        this.setData({ askIds: (await api.config()).ask_on_submit || [] })
      } catch (err) { /* rating still works; only the new subscription is not asked for */ }
    },
    async loadPhotos() {
      const ours = this.data.order.photos.filter((u) => u.indexOf('/uploads/') === 0)
      const photos = []
      for (const url of ours) photos.push(await api.download(url))
      this.setData({ photos })
    },
    choose(e) {
      this.setData({ rating: e.currentTarget.dataset.value })
    },
    onComment(e) {
      this.setData({ comment: e.detail.value })
    },
    act(run, done) {
      this.setData({ busy: true, error: '', notice: '' })
      this.failed = () => this.act(run, done)
      return run().then((order) => {
        this.failed = null
        this.show(order)
        this.setData({ busy: false, notice: done(order), rating: '', comment: '' })
        return this.loadPhotos()
      }, (err) => this.setData({ busy: false, error: ui.errorText(err) }))
    },
    rate() {
      const body = { satisfaction: this.data.rating }
      if (this.data.comment.trim()) body.comment = this.data.comment.trim()
      // Still inside the tap (WeChat shows the dialog only then); any answer goes on to the rating.
      const asked = body.satisfaction === 'unsatisfied' ? ui.askSubscribe(this.data.askIds) : Promise.resolve()
      return asked.then(() => this.act(() => api.post(`/api/v1/orders/${this.number}/rating`, body),
        (o) => (o.state === 'reopened' ? '谢谢您的反馈，已重新交给网格员办理' : '谢谢您的评价')))
    },
    withdraw() {
      return new Promise((resolve) => {
        wx.showModal({
          title: '撤回诉求', content: '撤回后网格员不再办理，确定撤回吗？', confirmText: '撤回', cancelText: '不撤回',
          success: (res) => resolve(res.confirm
            ? this.act(() => api.post(`/api/v1/orders/${this.number}/cancel`, {}), () => '已撤回')
            : null),
          fail: () => resolve(null),
        })
      })
    },
    addPhoto() {
      return new Promise((resolve) => {
        wx.chooseMedia({
          count: 1, mediaType: ['image'], sourceType: ['camera', 'album'], sizeType: ['compressed'],
          success: (res) => resolve(this.act(
            () => api.upload(`/api/v1/orders/${this.number}/photos`, res.tempFiles[0].tempFilePath), () => '照片已补充')),
          fail: () => resolve(null),
        })
      })
    },
    closeGuide() { this.setData({ showPrivacy: false }) },
    preview(e) {
      wx.previewImage({ urls: this.data.photos, current: e.currentTarget.dataset.src })
    },
  },
})
