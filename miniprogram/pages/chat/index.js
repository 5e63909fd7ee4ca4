// The main page: the same conversation as the H5 page and 客服消息 (POST /api/v1/chat). Each message
// carries its own client_id, so a retry after a network error is the same message — never a
// second order. The bot's quick replies are buttons; an order number is a card to tap, with a
// 接收办理进度通知 button: an order made in the chat was never a 随手拍 submit, so this tap is where
// the subscribe messages are asked for (template ids from the backend). The channel is
// `miniprogram`: an order the conversation makes says it came from here.
const api = require('../../utils/api')
const ui = require('../../utils/ui')

let seq = 0

Component({
  data: {
    large: false, signingIn: true, error: '', sending: false, draft: '',
    messages: [], buttons: [], offerHuman: false, askIds: [], subscribed: {},
  },
  methods: {
    async onLoad() {
      this.setData({ large: ui.isLarge() })
      await this.enter()
    },
    onShow() {
      this.setData({ large: ui.isLarge() })
    },
    // Silent sign-in: a token before the resident types anything (a failure shows 重试).
    async enter() {
      this.setData({ signingIn: true, error: '' })
      try {
        await api.token()
        this.setData({ signingIn: false })
      } catch (err) {
        this.setData({ signingIn: false, error: ui.errorText(err) })
        return
      }
      try {  // the template ids for an order's card; without them the card offers no subscription
        this.setData({ askIds: (await api.config()).ask_on_submit || [] })
      } catch (err) { /* the chat goes on; the next sign-in tries again */ }
    },
    onInput(e) {
      this.setData({ draft: e.detail.value })
    },
    send() {
      const text = (this.data.draft || '').trim()
      if (!text || this.data.sending) return Promise.resolve()
      this.pending = { text, clientId: api.clientId() }
      this.push({ from: 'me', text })
      this.setData({ draft: '' })
      return this.deliver()
    },
    tapQuick(e) {
      const { title, payload } = e.currentTarget.dataset
      this.pending = { text: payload || title, clientId: api.clientId() }
      this.push({ from: 'me', text: title })
      return this.deliver()
    },
    askHuman() {
      this.pending = { text: '转人工', clientId: api.clientId() }
      this.push({ from: 'me', text: '转人工' })
      return this.deliver()
    },
    retry() {
      return this.pending ? this.deliver() : this.enter()
    },
    async deliver() {
      const message = this.pending
      this.setData({ sending: true, error: '', buttons: [], offerHuman: false })
      try {
        const answer = await api.post('/api/v1/chat', { text: message.text, client_id: message.clientId, channel: 'miniprogram' })
        this.pending = null
        const replies = answer.replies || []
        replies.forEach((text, i) => this.push({
          from: 'bot', text, order: i === replies.length - 1 ? answer.order_number : null,
        }))
        if (!replies.length && answer.order_number) this.push({ from: 'bot', text: '', order: answer.order_number })
        this.setData({
          sending: false,
          buttons: answer.buttons || [],
          offerHuman: replies.some((r) => r.indexOf('转人工') >= 0),
        })
      } catch (err) {
        // The message stays pending with its client_id: 重试 sends the very same message again.
        this.setData({ sending: false, error: ui.errorText(err) })
      }
    },
    push(message) {
      seq += 1
      this.setData({ messages: this.data.messages.concat([Object.assign({ id: seq, order: null }, message)]) })
    },
    // Still inside the tap: WeChat shows the subscribe dialog only now. Any answer goes on.
    subscribe(e) {
      const number = e.currentTarget.dataset.number
      const ids = this.data.askIds
      return ui.askSubscribe(ids).then((res) => {
        const accepted = ids.some((id) => res && res[id] === 'accept')
        const said = accepted ? '已订阅：接单、办结、回复时会通知您' : '没有订阅通知，可以在“我的诉求”里看进度'
        this.setData({ subscribed: Object.assign({}, this.data.subscribed, { [number]: said }) })
      })
    },
    openOrder(e) {
      wx.navigateTo({ url: '/pages/orders/detail?number=' + e.currentTarget.dataset.number })
    },
  },
})
