// The residents' journeys, each a run of real pages against the real backend:
//   node miniprogram/tests/journeys.js <journey>
// Environment (set by tests/miniprogram/test_journeys.py): API_BASE (the live backend), MP_STATE (a
// JSON file the journeys of one test share), PHOTO (a real PNG), BUILDING_LABEL, STAFF_TOKEN (a grid
// worker's bearer token: "a worker resolves it through the API"), BOT_ANSWERS (the real bot's questions).
const assert = require('assert')
const fs = require('fs')
const h = require('./harness')
const { createWx } = require('./wx')

const API = process.env.API_BASE
const STATE = process.env.MP_STATE
const state = STATE && fs.existsSync(STATE) ? JSON.parse(fs.readFileSync(STATE, 'utf8')) : {}
const save = () => STATE && fs.writeFileSync(STATE, JSON.stringify(state))

function phoneOf(user) {
  const wx = createWx({ user })
  wx.setStorageSync('apiBase', API)  // a develop build pointed at the test server (我的 → 服务器地址)
  h.usePhone(wx)
  return wx
}

async function http(method, path, body, token) {
  const res = await fetch(API + path, {
    method, headers: Object.assign({ 'content-type': 'application/json' }, token ? { Authorization: 'Bearer ' + token } : {}),
    body: body ? JSON.stringify(body) : undefined,
  })
  return { status: res.status, body: await res.json().catch(() => null) }
}

const inner = (host, selector) => `${host} >>> ${selector}`

// --- sign in silently, chat to an order number (the bot down: the chat stores it itself) -------------
async function chat() {
  const wx = phoneOf('alice')
  const page = await h.openPage('pages/chat/index')
  await h.until(() => wx.getStorageSync('token'), 'the silent sign-in')
  assert.strictEqual(wx.calls('login').length, 1)
  const signIns = wx.calls('request').filter((c) => c.url.endsWith('/api/v1/auth/wechat'))
  assert.strictEqual(signIns.length, 1)
  assert.ok(!h.pageText(page).includes('登录'), 'the resident never sees a login page')
  assert.ok(h.find(page, '[open-type=contact]'), 'the 客服 button (open-type="contact")')
  await h.until(() => page.instance.data.askIds.length, 'the subscribe template ids from the backend')
  const config = (await http('GET', '/api/v1/miniprogram/config', null, wx.getStorageSync('token'))).body

  // Logged out on another device: the token is dead, and the phone has no network for a moment.
  const out = await http('POST', '/api/v1/auth/logout', null, wx.getStorageSync('token'))
  assert.strictEqual(out.status, 204)
  wx.__phone.offline = true
  h.fire(page, '.draft', 'input', { value: '水晶城小区3号楼门口的路灯不亮了' })
  h.tap(page, '.send')
  await h.until(() => h.find(page, '.chat-error'), 'the network error')
  assert.ok(h.pageText(page).includes('网络不给力'), h.pageText(page))
  assert.ok(h.text(h.find(page, '.retry')).includes('重试'))

  wx.__phone.offline = false
  h.tap(page, inner('.chat-error', '.retry'))
  await h.until(() => h.find(page, '.order-card'), 'the order card', 60000)
  assert.ok(!h.find(page, '.chat-error'))
  assert.strictEqual(wx.calls('login').length, 2, 'the 401 signed in again, once')
  const number = h.text(h.find(page, '.order-number'))
  assert.match(number, /^HX\d{8}-\d{4}$/)
  const chats = wx.calls('request').filter((c) => c.url.endsWith('/api/v1/chat'))
  assert.strictEqual(new Set(chats.map((c) => c.data.client_id)).size, 1, 'the retry was the same message')

  // An order made in the chat: its card asks for the subscribe messages (none was asked at 发送).
  assert.strictEqual(wx.calls('requestSubscribeMessage').length, 0)
  h.tap(page, '.subscribe')
  await h.until(() => h.find(page, '.subscribed'), 'the subscription asked for')
  assert.deepStrictEqual(wx.calls('requestSubscribeMessage').map((c) => c.tmplIds), [config.ask_on_submit])
  assert.ok(h.text(h.find(page, '.subscribed')).includes('已订阅'), h.pageText(page))
  assert.ok(!h.find(page, '.subscribe'), 'asked once')
  assert.strictEqual(wx.calls('navigateTo').length, 0, 'the button is not a tap on the card')

  h.tap(page, '.order-card')
  await h.until(() => wx.calls('navigateTo').length, 'the tap on the card: ' + JSON.stringify(wx.__calls.map((c) => c.name)))
  const nav = wx.calls('navigateTo').pop()
  assert.strictEqual(nav.url, '/pages/orders/detail?number=' + number)
  const detail = await h.openPage('pages/orders/detail', { number })
  await h.until(() => h.find(detail, '.order-state'), 'the order')
  assert.strictEqual(h.text(h.find(detail, '.order-number')), number)
  assert.strictEqual(h.text(h.find(detail, '.order-state')), '待受理')

  // 补充照片 is alice's first photo (she never opened 随手拍): WeChat asks the app for consent, the
  // page shows the 隐私保护指引, and the photo goes only once she agrees.
  require('../utils/privacy').listen()  // what app.js's onLaunch does
  global.getCurrentPages = () => [detail.instance]
  wx.__phone.media = [process.env.PHOTO]
  h.tap(detail, '.add-photo')
  await h.until(() => h.find(detail, '.privacy'), 'the privacy guide on the order page')
  assert.ok(h.pageText(detail).includes('隐私保护指引'))
  assert.strictEqual(wx.calls('uploadFile').length, 0, 'nothing sent before consent')
  h.fire(detail, inner('.privacy', '#agree-privacy'), 'agreeprivacyauthorization', {})
  await h.until(() => h.find(detail, '.order-photo'), 'the photo, sent after consent', 60000)
  assert.ok(!h.find(detail, '.privacy'), 'the guide closed')
  assert.strictEqual(wx.calls('uploadFile').length, 1)
  assert.ok(h.text(h.find(detail, '.notice')).includes('照片已补充'))
  global.getCurrentPages = () => []
  state.chatOrder = number
  save()
}

// --- the same with the real bot: answer its questions until it gives a number ----------------------
async function chatWithBot() {
  const answers = JSON.parse(process.env.BOT_ANSWERS)
  const wx = phoneOf('carol')
  const page = await h.openPage('pages/chat/index')
  let say = '水晶城小区3号楼2单元楼道灯坏了好几天了'
  const transcript = []
  for (let turn = 0; turn < 8 && !h.find(page, '.order-card'); turn++) {
    h.fire(page, '.draft', 'input', { value: say })
    const before = h.findAll(page, '.bubble').length
    h.tap(page, '.send')
    await h.until(() => !page.instance.data.sending && h.findAll(page, '.bubble').length > before + 1, 'the bot', 60000)
    const bot = h.findAll(page, '.bot').map(h.text)
    transcript.push(say, bot[bot.length - 1])
    const last = bot[bot.length - 1] || ''
    const pair = answers.find(([key]) => last.includes(key))
    if (h.find(page, '.order-card')) break
    assert.ok(pair, 'unexpected question from the bot: ' + transcript.join(' / '))
    say = pair[1]
  }
  assert.ok(h.find(page, '.order-card'), transcript.join(' / '))
  state.botOrder = h.text(h.find(page, '.order-number'))
  save()
}

// --- the bot's quick replies as buttons, and 转人工 when the bot offers it -------------------------------
async function quickReplies() {
  const wx = phoneOf('alice')
  const page = await h.openPage('pages/chat/index')
  await h.until(() => wx.getStorageSync('token'), 'the silent sign-in')
  h.fire(page, '.draft', 'input', { value: '我想评价一下上次的工单' })
  h.tap(page, '.send')
  await h.until(() => h.find(page, '.quick-reply'), 'the quick replies')
  assert.deepStrictEqual(h.findAll(page, '.quick-reply').map(h.text), ['满意', '不满意', '转人工'])
  assert.ok(h.find(page, '.to-human'), 'the bot said 转人工: the button is there')
  h.tap(page, '.quick-reply', 1)
  await h.until(() => wx.calls('request').filter((c) => c.url.endsWith('/api/v1/chat')).length === 2, 'the second message')
  await h.until(() => !page.instance.data.sending, 'the answer')
  const sent = wx.calls('request').filter((c) => c.url.endsWith('/api/v1/chat')).map((c) => c.data.text)
  assert.deepStrictEqual(sent, ['我想评价一下上次的工单', '/rate_service{"satisfaction": "不满意"}'])
  const mine = h.findAll(page, '.me').map(h.text)
  assert.strictEqual(mine[mine.length - 1], '不满意', 'the resident sees the title, the bot gets the payload')
  h.tap(page, '.to-human')
  await h.until(() => wx.calls('request').filter((c) => c.url.endsWith('/api/v1/chat')).length === 3, 'the 转人工 message')
  assert.strictEqual(wx.calls('request').filter((c) => c.url.endsWith('/api/v1/chat')).pop().data.text, '转人工')
  await h.until(() => !page.instance.data.sending && h.findAll(page, '.bot').length === 3, 'the answer to 转人工')
}

// --- 随手拍 with a photo and a place, 我的诉求, a worker resolves it, 不满意 → reopened, withdraw another --
async function report() {
  const wx = phoneOf('alice')
  wx.__phone.media = [process.env.PHOTO]
  const page = await h.openPage('pages/report/index')
  await h.until(() => !page.instance.data.loading, 'the report form')
  assert.ok(h.pageText(page).includes('隐私保护指引'), 'the privacy guide comes before the first report')
  h.tap(page, '.submit')  // not yet agreed: nothing is sent
  await new Promise((r) => setTimeout(r, 100))
  assert.strictEqual(wx.calls('request').filter((c) => c.url.endsWith('/api/v1/orders')).length, 0)
  h.fire(page, inner('.privacy', '#agree-privacy'), 'agreeprivacyauthorization', {})
  await h.until(() => !h.pageText(page).includes('隐私保护指引'), 'the guide to close')
  assert.strictEqual(wx.getStorageSync('privacyAgreed'), true)

  const config = (await http('GET', '/api/v1/miniprogram/config', null, wx.getStorageSync('token'))).body
  h.fire(page, '.report-text', 'input', { value: '3号楼门口的窨井盖松动了，晚上容易绊倒人' })
  h.tap(page, '.add-photo')
  await h.until(() => h.findAll(page, '.photo').length === 1, 'the photo')
  assert.strictEqual(wx.calls('chooseMedia')[0].count, config.photo_max_count)
  assert.deepStrictEqual(wx.calls('chooseMedia')[0].sizeType, ['compressed'])
  assert.ok(h.pageText(page).includes(`最多 ${config.photo_max_count} 张`))
  const labels = page.instance.data.buildings.map((b) => b.label)
  const index = labels.indexOf(process.env.BUILDING_LABEL)
  assert.ok(index >= 0, 'the registered building is offered: ' + labels.join(','))
  h.fire(page, '.building-picker', 'change', { value: index })
  await h.until(() => h.text(h.find(page, '.place')).includes(process.env.BUILDING_LABEL), 'the place')

  h.tap(page, '.submit')
  await h.until(() => h.find(page, '.done'), 'the submitted order', 60000)
  assert.deepStrictEqual(wx.calls('requestSubscribeMessage')[0].tmplIds, config.ask_on_submit)
  assert.strictEqual(wx.calls('uploadFile').length, 1)
  const done = page.instance.data.done
  assert.ok(h.text(h.find(page, '.done')).includes(done.number))
  assert.ok(h.text(h.find(page, '.done')).includes('已上传照片 1 张'))
  // The category is the order's answer (the backend's classifier at intake), shown with it.
  assert.ok(done.category, 'the backend classified it: ' + JSON.stringify(done))
  assert.ok(h.text(h.find(page, '.done')).includes('类别：' + done.category), h.pageText(page))
  state.reported = done.number
  save()

  // 我的诉求: the list, then the order with its photo, deadline and timeline; 撤回 offered, 评价 not yet.
  const list = await h.openPage('pages/orders/index')
  await h.until(() => h.find(list, '.order'), 'my orders')
  const row = h.findAll(list, '.order').find((n) => h.text(n).includes(done.number))
  assert.ok(row && h.text(row).includes('待受理') && h.text(row).includes('前接单'), h.pageText(list))
  const detail = await h.openPage('pages/orders/detail', { number: done.number })
  await h.until(() => h.find(detail, '.order-photo'), 'the photo, downloaded with the token')
  assert.ok(h.text(h.find(detail, '.timeline')).includes('提交'))
  assert.ok(h.find(detail, '.deadline'))
  assert.ok(h.text(h.find(detail, '.order-text')).includes('窨井盖'))
  assert.ok(h.find(detail, '.withdraw') && !h.find(detail, '.rating'))

  // A grid worker claims and resolves it through the staff API.
  const staff = process.env.STAFF_TOKEN
  assert.strictEqual((await http('POST', `/api/v1/orders/${done.number}/claim`, {}, staff)).status, 200)
  const resolved = await http('POST', `/api/v1/orders/${done.number}/resolve`, { result: '已重新固定窨井盖' }, staff)
  assert.strictEqual(resolved.status, 200, JSON.stringify(resolved.body))

  const again = await h.openPage('pages/orders/detail', { number: done.number })
  await h.until(() => h.find(again, '.rating'), 'the rating form')
  assert.strictEqual(h.text(h.find(again, '.order-state')), '已办结')
  assert.ok(h.text(h.find(again, '.result')).includes('已重新固定窨井盖'))
  assert.ok(!h.find(again, '.withdraw'), 'nothing the backend did not allow')
  assert.deepStrictEqual(h.findAll(again, '.choice').map(h.text), ['满意', '基本满意', '不满意'])
  await h.until(() => again.instance.data.askIds.length, 'the template ids on the rating form')
  h.tap(again, '.choice', 2)
  h.fire(again, '.rating-comment', 'input', { value: '晚上还是会响，没有固定牢' })
  await h.until(() => again.instance.data.rating === 'unsatisfied', 'the choice')
  h.tap(again, '.submit-rating')
  await h.until(() => h.text(h.find(again, '.order-state')) === '重新办理', 'the reopened order')
  assert.ok(h.text(h.find(again, '.notice')).includes('重新交给网格员'))
  // One-time subscriptions: the 办结 notice used the report's; 不满意 asked again for the next one.
  assert.deepStrictEqual(wx.calls('requestSubscribeMessage').map((c) => c.tmplIds),
    [config.ask_on_submit, config.ask_on_submit])
  assert.ok(!h.find(again, '.rating'))

  // Withdraw another: a place from the map this time.
  wx.__phone.location = { name: '水晶城小区东门', address: '金鸡湖大道88号', latitude: 31.3, longitude: 120.7 }
  h.tap(page, '.again')
  await h.until(() => h.find(page, '.report-text'), 'an empty form')
  h.fire(page, '.report-text', 'input', { value: '东门口有人乱堆建筑垃圾' })
  h.tap(page, '.choose-location')
  await h.until(() => h.text(h.find(page, '.place')).includes('水晶城小区东门'), 'the chosen place')
  h.tap(page, '.submit')
  await h.until(() => h.find(page, '.done'), 'the second order', 60000)
  const second = page.instance.data.done
  assert.strictEqual(second.location_text, '水晶城小区东门，金鸡湖大道88号')
  const withdrawing = await h.openPage('pages/orders/detail', { number: second.number })
  await h.until(() => h.find(withdrawing, '.withdraw'), 'the withdraw button')
  h.tap(withdrawing, '.withdraw')
  await h.until(() => h.text(h.find(withdrawing, '.order-state')) === '已撤回', 'the withdrawn order')
  assert.strictEqual(wx.calls('showModal').length, 1, 'asked before withdrawing')
  assert.ok(!h.find(withdrawing, '.withdraw'))
  state.withdrawn = second.number
  save()
}

// --- 附议: alice reports the street lamp; bob reports it too, is offered 附议 and joins; it is in bob's
// 我的诉求 as （附议）; a worker resolves it through the staff API; bob rates it ------------------------
async function reportLamp(user, text) {
  const wx = phoneOf(user)
  wx.setStorageSync('privacyAgreed', true)  // agreed before (the guide is the report journey's)
  const page = await h.openPage('pages/report/index')
  await h.until(() => !page.instance.data.loading, 'the report form')
  h.fire(page, '.report-text', 'input', { value: text })
  const index = page.instance.data.buildings.map((b) => b.label).indexOf(process.env.BUILDING_LABEL)
  h.fire(page, '.building-picker', 'change', { value: index })
  await h.until(() => h.find(page, '.place'), 'the place')
  h.tap(page, '.submit')
  return { wx, page }
}

async function sameLamp() {
  const first = await reportLamp('alice', '3号楼门口的路灯不亮了，晚上很黑')
  await h.until(() => h.find(first.page, '.done'), 'the first report', 60000)
  assert.ok(!h.find(first.page, '.offer'), 'nobody reported it before alice: nothing to join')
  const lamp = first.page.instance.data.done.number
  state.lamp = lamp
  save()

  const { wx, page } = await reportLamp('bob', '三号楼门口路灯坏了，晚上走路看不见')
  await h.until(() => h.find(page, '.offer'), 'the offer to join', 60000)
  assert.strictEqual(h.text(h.find(page, '.offer-text')),
    `这个问题已有居民反映（${lamp}，办理中），要不要附议？附议后进展会同步通知您`)
  assert.deepStrictEqual([h.text(h.find(page, '.join-offer')), h.text(h.find(page, '.not-same'))], ['附议', '不是一回事'])
  assert.ok(!h.find(page, '.submit'), 'one question at a time')
  assert.strictEqual(wx.calls('request').filter((c) => c.url.endsWith('/api/v1/orders')).length, 0, 'no order made yet')
  assert.deepStrictEqual(wx.calls('requestSubscribeMessage').length, 1, 'asked at the tap, as for any report')
  h.tap(page, '.join-offer')
  await h.until(() => h.find(page, '.joined'), 'the joined order', 60000)
  assert.ok(h.text(h.find(page, '.joined')).includes(`已附议，工单号 ${lamp}`), h.pageText(page))
  assert.ok(h.text(h.find(page, '.joined')).includes('已有 2 位居民反映'), h.pageText(page))
  const join = wx.calls('request').find((c) => c.url.endsWith(`/api/v1/orders/${lamp}/join`))
  assert.strictEqual(join.data.channel, 'miniprogram')
  assert.strictEqual(wx.calls('request').filter((c) => c.url.endsWith('/api/v1/orders')).length, 0, 'no second order')

  // 我的诉求: the lamp, marked （附议）; its page says bob follows it, and offers nothing yet.
  const list = await h.openPage('pages/orders/index')
  await h.until(() => h.find(list, '.order'), 'my orders')
  assert.strictEqual(h.findAll(list, '.order').length, 1)
  const row = h.find(list, '.order')
  assert.ok(h.text(row).includes(lamp), h.pageText(list))
  assert.deepStrictEqual(h.findAll(list, '.joined-mark').map(h.text), ['（附议）'])
  const detail = await h.openPage('pages/orders/detail', { number: lamp })
  await h.until(() => h.find(detail, '.order-state'), 'the order')
  assert.ok(h.find(detail, '.co-reporter'), h.pageText(detail))
  assert.ok(!h.find(detail, '.withdraw') && !h.find(detail, '.rating'), 'a co-reporter may not withdraw it')

  // carol means another lamp: 不是一回事 makes her own order, as without a candidate.
  const third = await reportLamp('carol', '3号楼门口的路灯一直不亮，晚上很黑')
  await h.until(() => h.find(third.page, '.offer'), 'the offer to carol', 60000)
  h.tap(third.page, '.not-same')
  await h.until(() => h.find(third.page, '.done'), 'carol\'s own order', 60000)
  assert.notStrictEqual(third.page.instance.data.done.number, lamp)
  assert.ok(!third.wx.calls('request').some((c) => c.url.endsWith('/join')), 'not joined')
  state.separate = third.page.instance.data.done.number
  save()
  h.usePhone(wx)  // bob's phone again

  // A grid worker claims and resolves it through the staff API.
  const staff = process.env.STAFF_TOKEN
  assert.strictEqual((await http('POST', `/api/v1/orders/${lamp}/claim`, {}, staff)).status, 200)
  const resolved = await http('POST', `/api/v1/orders/${lamp}/resolve`, { result: '已更换路灯灯泡' }, staff)
  assert.strictEqual(resolved.status, 200, JSON.stringify(resolved.body))

  // bob rates it: 满意.
  const again = await h.openPage('pages/orders/detail', { number: lamp })
  await h.until(() => h.find(again, '.rating'), 'the rating form for the co-reporter')
  assert.ok(h.text(h.find(again, '.result')).includes('已更换路灯灯泡'))
  h.tap(again, '.choice', 0)
  await h.until(() => again.instance.data.rating === 'satisfied', 'the choice')
  h.tap(again, '.submit-rating')
  await h.until(() => h.text(h.find(again, '.order-state')) === '已评价', 'the rated order', 60000)
  assert.ok(!h.find(again, '.rating'), 'rated once')
  assert.strictEqual(wx.calls('requestSubscribeMessage').length, 1, '满意 reopens nothing: no new subscription asked')
}

// --- 大字模式, and a network error shown with 重试 (never a blank page) ------------------------------
async function comfort() {
  const wx = phoneOf('alice')
  const settings = await h.openPage('pages/settings/index')
  h.fire(settings, '.large-type', 'change', { value: true })
  await h.until(() => h.classes(h.tree(settings).children[0]).includes('large'), 'large type on the settings page')
  const chatPage = await h.openPage('pages/chat/index')
  assert.ok(h.classes(h.tree(chatPage).children[0]).includes('large'), 'every page reads it')

  wx.__phone.offline = true
  const list = await h.openPage('pages/orders/index')
  await h.until(() => h.find(list, '.orders-error'), 'the error')
  assert.ok(h.pageText(list).includes('网络不给力') && h.pageText(list).includes('重试'), h.pageText(list))
  wx.__phone.offline = false
  h.tap(list, inner('.orders-error', '.retry'))
  await h.until(() => h.find(list, '.order'), 'the list after 重试')
  assert.ok(!h.find(list, '.orders-error'))
}

// --- 微心愿: alice posts a wish; (the community approves it); bob registers as a volunteer and claims it
async function wishPost() {
  const wx = phoneOf('alice')
  const board = await h.openPage('pages/wishes/index')
  await h.until(() => !board.instance.data.loading, 'the wish board')
  h.tap(board, '.new-wish')
  await h.until(() => wx.calls('navigateTo').length === 1, 'the new-wish page')
  assert.strictEqual(wx.calls('navigateTo').pop().url, '/pages/wishes/new')
  const form = await h.openPage('pages/wishes/new')
  await h.until(() => h.find(form, '.wish-text'), 'the wish form')
  h.fire(form, '.wish-text', 'input', { value: '想请人教我用手机挂号，电话13912345678' })
  h.fire(form, '.beneficiary', 'input', { value: '我家老人' })
  h.tap(form, '.submit-wish')
  await h.until(() => wx.calls('redirectTo').length, 'the posted wish')
  const id = wx.calls('redirectTo')[0].url.split('id=')[1]
  const detail = await h.openPage('pages/wishes/detail', { id })
  await h.until(() => h.find(detail, '.wish-state'), 'the wish')
  assert.strictEqual(h.text(h.find(detail, '.wish-state')), '待审核')
  assert.ok(h.text(h.find(detail, '.wish-text')).includes('13912345678'), 'the wisher reads it as written')
  assert.ok(h.find(detail, '.withdraw') && !h.find(detail, '.claim'))
  state.wish = Number(id)
  save()
}

async function wishClaim() {
  const wx = phoneOf('bob')
  const board = await h.openPage('pages/wishes/index')
  await h.until(() => !board.instance.data.loading, 'the wish board')
  assert.ok(!h.find(board, '.open-wish'), 'not registered: no board')
  h.tap(board, '.volunteer')
  const form = await h.openPage('pages/wishes/volunteer')
  await h.until(() => h.find(form, '.name'), 'the registration form')
  h.fire(form, '.name', 'input', { value: '赵建国' })
  h.fire(form, '.skills', 'input', { value: '陪伴，手机教学' })
  h.tap(form, '.register')
  await h.until(() => wx.calls('navigateBack').length, 'the registration')
  await board.instance.onShow()
  await h.until(() => h.find(board, '.open-wish'), 'the published wish on the board')
  const shown = h.text(h.find(board, '.open-wish'))
  assert.ok(shown.includes('手机挂号') && !shown.includes('13912345678'), 'another resident reads it masked: ' + shown)
  assert.ok(h.text(h.find(board, '.membership')).includes('志愿者'))
  const trips = wx.calls('navigateTo').length
  h.tap(board, '.open-wish')
  await h.until(() => wx.calls('navigateTo').length > trips, 'the wish page')
  const id = wx.calls('navigateTo').pop().url.split('id=')[1]
  assert.strictEqual(Number(id), state.wish)
  const detail = await h.openPage('pages/wishes/detail', { id })
  await h.until(() => h.find(detail, '.claim'), 'the claim button')
  h.tap(detail, '.claim')
  await h.until(() => h.text(h.find(detail, '.wish-state')) === '已认领', 'the claimed wish')
  assert.ok(h.text(h.find(detail, '.notice')).includes('认领成功'))
  assert.ok(h.find(detail, '.fulfil') && h.find(detail, '.release'))
}

const JOURNEYS = { chat, chatWithBot, quickReplies, report, sameLamp, comfort, wishPost, wishClaim }

const name = process.argv[2]
if (!JOURNEYS[name]) {
  console.error('journeys: ' + Object.keys(JOURNEYS).join(', '))
  process.exit(2)
}
JOURNEYS[name]().then(() => {
  console.log(`journey ${name}: ok`)
  process.exit(0)
}, (err) => {
  console.error(`journey ${name} failed:`, err && err.stack || err)
  process.exit(1)
})
