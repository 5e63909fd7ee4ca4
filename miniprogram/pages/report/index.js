// 随手拍: what happened, up to the backend's photo limit (wx.chooseMedia, camera or album, compressed),
// where (a registered building from the backend, or a point from wx.chooseLocation). Submitting
// asks for the subscribe messages (template ids from the backend), makes the order with an
// Idempotency-Key (a retry gives the same order) and uploads the photos to it one by one.
// 隐私保护指引 comes first, before anything is collected.
// 附议: before the order is made the draft goes to POST /api/v1/orders/duplicates; when the backend
// names an open order it may repeat, the resident is asked 附议 (POST /api/v1/orders/<number>/join
// with the draft: they follow that order as a co-reporter, no new order, no photos) or 不是一回事
// (the order is made as without a candidate). Everything is sent with channel `miniprogram`.
const api = require('../../utils/api')
const ui = require('../../utils/ui')
const privacy = require('../../utils/privacy')

const CHANNEL = 'miniprogram'

const FRESH = {
  text: '', textError: '', photos: [], buildingIndex: -1, location: null, placeText: '',
  done: null, joined: null, offer: null, error: '', submitting: false,
}

Component({
  data: Object.assign({
    large: false, loading: true, maxCount: 9, buildings: [], askIds: [],
    showPrivacy: false, privacyRefused: false,
  }, FRESH),
  methods: {
    async onLoad() {
      this.setData({ large: ui.isLarge(), showPrivacy: !privacy.agreed() })
      await this.load()
    },
    onShow() {
      this.setData({ large: ui.isLarge() })
    },
    async load() {
      this.setData({ loading: true, error: '' })
      try {
        const config = await api.config()
        const buildings = []
        config.places.forEach((p) => p.buildings.forEach((b) => buildings.push({ id: b.id, label: b.label })))
        this.setData({ loading: false, maxCount: config.photo_max_count, buildings, askIds: config.ask_on_submit })
      } catch (err) {
        this.setData({ loading: false, error: ui.errorText(err) })
      }
    },
    retry() {
      if (!this.sending) return this.load()
      this.setData({ submitting: true, error: '' })
      return this.send()  // goes on where it stopped: the check, 附议, the order or the next photo
    },
    privacyAgreed() { this.setData({ showPrivacy: false, privacyRefused: false }) },
    privacyDeclined() { this.setData({ showPrivacy: false, privacyRefused: true }) },
    showGuide() { this.setData({ showPrivacy: true }) },
    onInput(e) { this.setData({ text: e.detail.value, textError: '' }) },
    // The draft as the backend reads it, for the duplicate check, 附议 and the order itself.
    draft() {
      const building = this.data.buildings[this.data.buildingIndex]
      const body = { text: this.data.text.trim() }
      if (building) body.building_id = building.id
      if (this.data.placeText) body.location_text = this.data.placeText
      return body
    },
    choosePhotos() {
      const room = this.data.maxCount - this.data.photos.length
      if (room <= 0) return
      wx.chooseMedia({
        count: room, mediaType: ['image'], sourceType: ['camera', 'album'], sizeType: ['compressed'],
        success: (res) => {
          const picked = res.tempFiles.map((f) => f.tempFilePath).slice(0, room)
          this.setData({ photos: this.data.photos.concat(picked) })
        },
      })
    },
    removePhoto(e) {
      const photos = this.data.photos.slice()
      photos.splice(e.currentTarget.dataset.index, 1)
      this.setData({ photos })
    },
    pickBuilding(e) {
      const index = Number(e.detail.value)
      this.setData({ buildingIndex: index, location: null, placeText: this.data.buildings[index].label })
    },
    chooseLocation() {
      wx.chooseLocation({
        success: (res) => {
          const placeText = [res.name, res.address].filter(Boolean).join('，').slice(0, 200)
          this.setData({ location: res, buildingIndex: -1, placeText })
        },
      })
    },
    submit() {
      if (this.data.showPrivacy || this.data.submitting) return Promise.resolve()
      if (!privacy.agreed()) { this.setData({ showPrivacy: true }); return Promise.resolve() }
      if (!this.data.text.trim()) { this.setData({ textError: '请说说是什么事' }); return Promise.resolve() }
      if (this.data.offer) return Promise.resolve()  // 附议 or 不是一回事 first
      // Still inside the tap: WeChat shows the subscribe dialog only now.
      const asked = this.sending ? Promise.resolve() : ui.askSubscribe(this.data.askIds)
      if (!this.sending) this.sending = { key: api.clientId(), order: null, uploaded: 0, checked: false, joining: null }
      this.setData({ submitting: true, error: '' })
      return asked.then(() => this.send())
    },
    async send() {
      const sending = this.sending
      try {
        if (sending.joining) return await this.sendJoin()
        if (!sending.order && !sending.checked) {
          const found = await api.post('/api/v1/orders/duplicates', this.draft())
          const candidate = (found.candidates || [])[0]
          if (candidate) {
            this.setData({ submitting: false, offer: { number: candidate.number, state_label: candidate.state_label } })
            return
          }
          sending.checked = true
        }
        if (!sending.order) {
          const body = Object.assign(this.draft(), { channel: CHANNEL })
          sending.order = await api.post('/api/v1/orders', body, { 'Idempotency-Key': sending.key })
        }
        let order = sending.order
        while (sending.uploaded < this.data.photos.length) {
          order = await api.upload(`/api/v1/orders/${order.number}/photos`, this.data.photos[sending.uploaded])
          sending.uploaded += 1
        }
        this.sending = null
        this.setData({ submitting: false, done: order })
      } catch (err) {
        // What was done stays done: 重试 goes on from the first photo not yet uploaded.
        this.setData({ submitting: false, error: ui.errorText(err) })
      }
    },
    // 附议: follow the order named, instead of making a new one (joining again answers the same).
    join() {
      if (!this.data.offer || this.data.submitting) return Promise.resolve()
      this.sending.joining = this.data.offer.number
      this.setData({ submitting: true, error: '' })
      return this.sendJoin()
    },
    async sendJoin() {
      try {
        const joined = await api.post(`/api/v1/orders/${this.sending.joining}/join`,
          Object.assign(this.draft(), { channel: CHANNEL }))
        this.sending = null
        this.setData({ submitting: false, offer: null, joined })
      } catch (err) {
        if (err.status === 422 && err.fields && err.fields.join) {
          // It moved on meanwhile (resolved, closed): no longer one to follow, so send it as new.
          this.sending.joining = null
          this.sending.checked = true
          this.setData({ offer: null })
          return this.send()
        }
        this.setData({ submitting: false, error: ui.errorText(err) })
      }
      return null
    },
    // 不是一回事: the report is made as it would be without a candidate.
    notTheSame() {
      if (!this.data.offer || this.data.submitting) return Promise.resolve()
      this.sending.checked = true
      this.setData({ offer: null, submitting: true, error: '' })
      return this.send()
    },
    openOrder(e) {
      wx.navigateTo({ url: '/pages/orders/detail?number=' + e.currentTarget.dataset.number })
    },
    again() {
      this.setData(Object.assign({}, FRESH))
    },
  },
})
